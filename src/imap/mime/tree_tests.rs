//! Unit tests of the MIME tree: boundaries, sizes, broken structure.

use super::*;

fn tree(msg: &[u8]) -> Tree {
    Tree::parse(msg)
}

fn body<'m>(msg: &'m [u8], t: &Tree, i: usize) -> &'m [u8] {
    &msg[t.part(i).body.clone()]
}

#[test]
fn single_part_message() {
    let msg = b"Subject: x\r\n\r\nHello\r\n";
    let t = tree(msg);
    assert_eq!(t.parts.len(), 1);
    assert_eq!(t.part(0).kind, Kind::Text);
    assert_eq!(body(msg, &t, 0), b"Hello\r\n");
}

#[test]
fn multipart_children_exclude_the_crlf_before_boundaries() {
    let msg = b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>\r\n--b--\r\nepi\r\n";
    let t = tree(msg);
    assert_eq!(t.part(0).children, vec![1, 2]);
    assert_eq!(body(msg, &t, 1), b"one");
    assert_eq!(body(msg, &t, 2), b"<p>");
    assert_eq!(t.part(0).body.end, msg.len());
}

#[test]
fn outer_boundary_closes_inner_parts() {
    let msg = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\na\r\n--o\r\n\r\nb\r\n--o--\r\n";
    let t = tree(msg);
    assert_eq!(t.part(0).children.len(), 2);
    let inner = t.part(0).children[0];
    assert_eq!(t.part(inner).children.len(), 1);
    assert_eq!(body(msg, &t, t.part(inner).children[0]), b"a");
    assert_eq!(body(msg, &t, t.part(0).children[1]), b"b");
}

#[test]
fn header_ended_by_a_boundary() {
    let msg = b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n--q--\r\n";
    let t = tree(msg);
    let child = t.part(0).children[0];
    assert_eq!(
        &msg[t.part(child).header.range.clone()],
        b"Content-Type: text/plain"
    );
    assert!(t.part(child).body.is_empty());
}

#[test]
fn multipart_without_boundary_has_no_children() {
    let msg = b"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nbody\r\n";
    let t = tree(msg);
    assert_eq!(t.part(0).kind, Kind::Multipart);
    assert!(t.part(0).children.is_empty());
}

#[test]
fn message_rfc822_has_one_child_and_digest_defaults() {
    let msg = b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: inner\r\n\r\nx\r\n--d--\r\n";
    let t = tree(msg);
    let child = t.part(0).children[0];
    assert_eq!(t.part(child).kind, Kind::Message);
    assert_eq!(t.part(child).children.len(), 1);
    let inner = t.part(child).children[0];
    assert_eq!(t.part(inner).header.fields[0].name, b"Subject");
}

#[test]
fn non_mime_parts_ignore_content_fields() {
    let msg = b"Content-Transfer-Encoding: base64\r\n\r\nx";
    let t = tree(msg);
    assert!(t.part(0).content.encoding.is_none());
    let msg = b"MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n\r\nx";
    assert_eq!(
        tree(msg).part(0).content.encoding.as_deref(),
        Some(&b"base64"[..])
    );
}

#[test]
fn longest_boundary_prefix_wins() {
    let msg = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=ab\r\n\r\n--ab\r\n\r\nx\r\n--ab--\r\n--a--\r\n";
    let t = tree(msg);
    let inner = t.part(0).children[0];
    assert_eq!(t.part(inner).children.len(), 1);
    assert_eq!(body(msg, &t, t.part(inner).children[0]), b"x");
}
