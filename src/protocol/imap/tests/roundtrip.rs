//! Property-style round trips: generated commands of every kind print
//! (with synchronising and non-synchronising literals) and parse back to
//! themselves, whole and through the streaming parser under every
//! chunking; mutated wire forms never panic.

use super::generate::command;
use super::{Event, Rng, assert_round_trip, events, stream};
use crate::protocol::imap::{Command, Limits};

#[test]
fn generated_commands_round_trip() {
    let mut rng = Rng::new(7);
    for _ in 0..3000 {
        let command = command(&mut rng);
        assert_round_trip(&command);
    }
}

#[test]
fn pipelined_generated_commands_survive_every_chunking() {
    let mut rng = Rng::new(11);
    for _ in 0..40 {
        let commands: Vec<Command> = (0..8).map(|_| command(&mut rng)).collect();
        let mut wire = Vec::new();
        for c in &commands {
            c.write_to(&mut wire, rng.chance(2));
        }
        let got: Vec<Command> = stream(Limits::default(), &wire)
            .into_iter()
            .filter_map(|e| match e {
                Event::Complete(c) => Some(c),
                Event::Literal(..) => None,
                other => panic!("{other:?} in {}", String::from_utf8_lossy(&wire)),
            })
            .collect();
        assert_eq!(got, commands);
    }
}

#[test]
fn mutated_wire_forms_never_panic_and_reparse() {
    let mut rng = Rng::new(23);
    let specials: &[u8] = b" ()[]{}<>\"\\*%$+-.:,0123456789\r\n\0\xffNIL";
    for _ in 0..3000 {
        let command = command(&mut rng);
        let mut wire = command.to_bytes();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(wire.len());
            match rng.below(3) {
                0 => wire[at] = *rng.pick(specials),
                1 => {
                    wire.remove(at);
                }
                _ => wire.insert(at, *rng.pick(specials)),
            }
        }
        if let Ok(parsed) = Command::parse(&wire) {
            assert_eq!(Command::parse(&parsed.to_bytes()), Ok(parsed));
        }
        let _ = events(Limits::default(), &[&wire]);
    }
}
