//! Mailbox names and LIST patterns (RFC 3501 §5.1 naming, §6.3.8 LIST
//! and §6.3.9 LSUB wildcards; RFC 5258 §3 for names that exist only as
//! parents).
//!
//! Owns: the hierarchy delimiter (`/`, as the store spells names), how a
//! reference and a pattern combine, wildcard matching (`*` anything, `%`
//! anything but the delimiter; INBOX case-insensitive), and the tree of
//! names LIST walks: every folder plus the parents that exist only
//! because something lies below them.
//!
//! Must not: talk to the store; the session passes the folder list in.

use std::collections::BTreeMap;

/// The hierarchy delimiter.
pub const DELIMITER: char = '/';

/// `reference` and `pattern` combined into one pattern (RFC 3501
/// §6.3.8: the reference is a prefix; a pattern that starts with the
/// delimiter does not double it).
pub fn combine(reference: &str, pattern: &str) -> String {
    if reference.is_empty() {
        return pattern.to_string();
    }
    match (
        reference.ends_with(DELIMITER),
        pattern.strip_prefix(DELIMITER),
    ) {
        (true, Some(rest)) => format!("{reference}{rest}"),
        _ => format!("{reference}{pattern}"),
    }
}

/// `INBOX` in any case as the first component becomes `INBOX`, so that
/// patterns and names compare as the store spells them.
pub fn canonical_inbox(name: &str) -> String {
    let first_end = name.find(DELIMITER).unwrap_or(name.len());
    if name[..first_end].eq_ignore_ascii_case("INBOX") {
        format!("INBOX{}", &name[first_end..])
    } else {
        name.to_string()
    }
}

/// A compiled LIST pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    chars: Vec<char>,
}

impl Pattern {
    /// Compiles `pattern` (already combined with the reference).
    pub fn new(pattern: &str) -> Pattern {
        Pattern {
            chars: canonical_inbox(pattern).chars().collect(),
        }
    }

    /// Whether `name` matches. Dynamic programming over characters, so
    /// hostile patterns (`*%*%*%…`) cost at most |pattern| × |name|.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // row[j]: pattern[..i] matches name[..j].
        let mut row = vec![false; name.len() + 1];
        row[0] = true;
        for &p in &self.chars {
            let mut next = vec![false; name.len() + 1];
            match p {
                '*' | '%' => {
                    // Some prefix matched, and what follows it holds no
                    // delimiter (for `%`).
                    let mut reach = false;
                    for j in 0..=name.len() {
                        if p == '%' && j > 0 && name[j - 1] == DELIMITER {
                            reach = false;
                        }
                        reach |= row[j];
                        next[j] = reach;
                    }
                }
                c => {
                    for j in 1..=name.len() {
                        next[j] = row[j - 1] && name[j - 1] == c;
                    }
                }
            }
            row = next;
        }
        row[name.len()]
    }
}

/// A folder or parent name in the tree LIST walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The folder exists (can be selected).
    pub exists: bool,
    /// Some folder lies below it.
    pub has_children: bool,
}

/// The tree of names: every folder, and every parent of one.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
}

impl Tree {
    /// The tree of `folders` (INBOX is always there).
    pub fn new<'a>(folders: impl IntoIterator<Item = &'a str>) -> Tree {
        let mut tree = Tree::default();
        tree.insert("INBOX", true);
        for f in folders {
            tree.insert(f, true);
        }
        tree
    }

    /// The tree of subscribed names (none of them need exist).
    pub fn of_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Tree {
        let mut tree = Tree::default();
        for n in names {
            tree.insert(n, true);
        }
        tree
    }

    fn insert(&mut self, name: &str, exists: bool) {
        let entry = self.nodes.entry(name.to_string()).or_insert(Node {
            exists,
            has_children: false,
        });
        entry.exists |= exists;
        let mut end = name.len();
        while let Some(i) = name[..end].rfind(DELIMITER) {
            let parent = &name[..i];
            let node = self.nodes.entry(parent.to_string()).or_insert(Node {
                exists: false,
                has_children: false,
            });
            node.has_children = true;
            end = i;
        }
    }

    /// The node called `name`.
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.nodes.get(name)
    }

    /// Every name with its node: INBOX first, then in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        let inbox = self.nodes.get_key_value("INBOX");
        let rest = self.nodes.iter().filter(|(k, _)| k.as_str() != "INBOX");
        inbox.into_iter().chain(rest).map(|(k, v)| (k.as_str(), v))
    }

    /// Names below `name` (its descendants), in name order.
    pub fn descendants<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let prefix = format!("{name}{DELIMITER}");
        self.nodes
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let star = Pattern::new("*");
        assert!(star.matches("INBOX") && star.matches("a/b/c"));
        let pct = Pattern::new("%");
        assert!(pct.matches("a") && !pct.matches("a/b"));
        let sub = Pattern::new("a/%");
        assert!(sub.matches("a/b") && !sub.matches("a/b/c") && !sub.matches("a"));
        let mid = Pattern::new("a/%/c");
        assert!(mid.matches("a/b/c") && !mid.matches("a/b/x/c"));
        let tail = Pattern::new("a*");
        assert!(tail.matches("a") && tail.matches("ab/c") && !tail.matches("ba"));
        let pct2 = Pattern::new("%b%");
        assert!(pct2.matches("abc") && !pct2.matches("a/bc"));
        assert!(Pattern::new("Entw%").matches("Entwürfe"));
        assert!(Pattern::new("").matches(""));
        assert!(!Pattern::new("").matches("a"));
    }

    #[test]
    fn inbox_any_case() {
        assert!(Pattern::new("inbox").matches("INBOX"));
        assert!(Pattern::new("Inbox/%").matches("INBOX/x"));
        assert!(!Pattern::new("inboxes").matches("INBOX"));
        assert_eq!(canonical_inbox("inBox/Sub"), "INBOX/Sub");
        assert_eq!(canonical_inbox("inboxes"), "inboxes");
    }

    #[test]
    fn hostile_patterns_are_cheap() {
        let p = Pattern::new(&"*%".repeat(500));
        let start = std::time::Instant::now();
        assert!(p.matches("abc"));
        assert!(!Pattern::new(&format!("{}b", "%".repeat(500))).matches(&"a".repeat(400)));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn references() {
        assert_eq!(combine("", "%"), "%");
        assert_eq!(combine("a/", "%"), "a/%");
        assert_eq!(combine("a/", "/b"), "a/b");
        assert_eq!(combine("a", "b"), "ab");
    }

    #[test]
    fn tree_with_missing_parents() {
        let t = Tree::new(["a/b/c", "x"]);
        assert_eq!(
            t.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            vec!["INBOX", "a", "a/b", "a/b/c", "x"]
        );
        let a = t.get("a").expect("a");
        assert!(!a.exists && a.has_children);
        assert!(t.get("a/b/c").is_some_and(|n| n.exists && !n.has_children));
        assert_eq!(t.descendants("a").collect::<Vec<_>>(), vec!["a/b", "a/b/c"]);
    }
}
