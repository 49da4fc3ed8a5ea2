//! Schema-constraint violations, recognised ONCE from SQLite's message (D1 reports them as
//! text) so that nothing above the store matches error strings. Pure: unit-tested natively.

/// Which kind of schema constraint a statement violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Unique,
    Check,
    NotNull,
    ForeignKey,
}

/// A violated schema constraint: its kind and what it names (`number_leases.number_id`,
/// `ledger.object_id, ledger.kind`, `index 'operators_name'`, a CHECK's expression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub kind: ConstraintKind,
    pub name: String,
}

const KINDS: [(&str, ConstraintKind); 4] = [
    ("UNIQUE constraint failed", ConstraintKind::Unique),
    ("CHECK constraint failed", ConstraintKind::Check),
    ("NOT NULL constraint failed", ConstraintKind::NotNull),
    ("FOREIGN KEY constraint failed", ConstraintKind::ForeignKey),
];

impl Constraint {
    /// The constraint a D1 error message reports (`D1_ERROR: UNIQUE constraint failed:
    /// t.c: SQLITE_CONSTRAINT`), if it reports one.
    pub fn parse(message: &str) -> Option<Constraint> {
        KINDS.iter().find_map(|(marker, kind)| {
            let at = message.find(marker)?;
            let rest = message.get(at + marker.len()..).unwrap_or_default();
            let rest = rest.strip_prefix(':').unwrap_or(rest);
            // The name ends where D1's suffix starts (`: SQLITE_CONSTRAINT`, ` (extended…)`).
            let name = rest.split(": ").next().unwrap_or_default();
            let name = match kind {
                ConstraintKind::Check => name,
                _ => name.split(" (").next().unwrap_or_default(),
            };
            Some(Constraint {
                kind: *kind,
                name: name.trim().to_owned(),
            })
        })
    }

    /// Whether this is a constraint of `kind` on `target`: a table (`ledger`), a column
    /// (`otp_sessions.send_allowed`, also one of a multi-column index) or a named index
    /// (`operators_name`).
    pub fn is(&self, kind: ConstraintKind, target: &str) -> bool {
        self.kind == kind
            && (self.name == target
                || self.name.starts_with(&format!("{target}."))
                || self.name.split(", ").any(|column| column == target)
                || self.name == format!("index '{target}'"))
    }

    /// The balance CHECK of the wallet (or of the ledger's `balance_after`): an overdraft.
    pub fn is_overdraft(&self) -> bool {
        self.kind == ConstraintKind::Check && self.name.contains("balance")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(m: &str) -> Constraint {
        Constraint::parse(m).unwrap()
    }

    #[test]
    fn recognises_each_kind_and_its_name() {
        let lease =
            parse("D1_ERROR: UNIQUE constraint failed: number_leases.number_id: SQLITE_CONSTRAINT");
        assert_eq!(lease.kind, ConstraintKind::Unique);
        assert_eq!(lease.name, "number_leases.number_id");
        assert!(lease.is(ConstraintKind::Unique, "number_leases"));
        assert!(!lease.is(ConstraintKind::Check, "number_leases"));

        let pair = parse("UNIQUE constraint failed: activations.number_id, activations.service");
        assert!(pair.is(ConstraintKind::Unique, "activations.number_id"));
        assert!(pair.is(ConstraintKind::Unique, "activations"));
        assert!(!pair.is(ConstraintKind::Unique, "activations.id"));

        let index =
            parse("D1_ERROR: UNIQUE constraint failed: index 'operators_name': SQLITE_CONSTRAINT");
        assert!(index.is(ConstraintKind::Unique, "operators_name"));

        let guard = parse(
            "NOT NULL constraint failed: otp_sessions.send_allowed (extended: \
            SQLITE_CONSTRAINT_NOTNULL)",
        );
        assert_eq!(guard.name, "otp_sessions.send_allowed");
        assert!(guard.is(ConstraintKind::NotNull, "otp_sessions.send_allowed"));

        let overdraft = parse(
            "D1_ERROR: CHECK constraint failed: balance >= 0 AND balance <= \
            1000000000000000: SQLITE_CONSTRAINT",
        );
        assert!(overdraft.is_overdraft());
        assert!(!lease.is_overdraft());

        assert_eq!(
            parse("FOREIGN KEY constraint failed").kind,
            ConstraintKind::ForeignKey
        );
        assert_eq!(Constraint::parse("D1_ERROR: no such table: x"), None);
    }
}
