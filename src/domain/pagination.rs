//! `?page=&limit=` as NumberOTP documents it: page ≥ 1 (default 1), limit 1–100 (default 20).
//! Out-of-range values are rejected with a 400 rather than clamped, so a client never
//! silently receives a different page size than it asked for.

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
const MAX_PAGE: u32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub limit: u32,
}

impl Page {
    pub fn parse(page: Option<&str>, limit: Option<&str>) -> Result<Page, String> {
        let page = match page.filter(|p| !p.is_empty()) {
            None => 1,
            Some(p) => match p.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => return Err(format!("page must be a whole number from 1 to {MAX_PAGE}")),
            },
        };
        let limit = match limit.filter(|l| !l.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "limit must be a whole number from 1 to {MAX_LIMIT}"
                    ))
                }
            },
        };
        Ok(Page { page, limit })
    }

    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.limit)
    }

    pub fn total_pages(self, total: u64) -> u64 {
        total.div_ceil(u64::from(self.limit))
    }
}

/// The id of the last row a client saw, as `after=` names it: the list goes on from the row
/// after it in the list's order (a keyset page: as cheap at any depth as the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    pub fn parse(s: &str) -> Result<Cursor, String> {
        let shaped = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        match shaped && (1..=64).contains(&s.len()) {
            true => Ok(Cursor(s.to_owned())),
            false => Err("after must be the next_cursor of an earlier page".to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which rows of a list: page `page.page` of `page.limit` rows, or (with `after`, which
/// then replaces the page number) the `page.limit` rows that follow a row the client saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub page: Page,
    pub after: Option<Cursor>,
}

impl From<Page> for Slice {
    fn from(page: Page) -> Slice {
        Slice { page, after: None }
    }
}

impl Slice {
    pub fn parse(
        page: Option<&str>,
        limit: Option<&str>,
        after: Option<&str>,
    ) -> Result<Slice, String> {
        let after = after.map(Cursor::parse).transpose()?;
        let page = Page::parse(page.filter(|_| after.is_none()), limit)?;
        Ok(Slice { page, after })
    }

    /// The page number asked for; `None` for the rows after a cursor.
    pub fn page_number(&self) -> Option<u32> {
        self.after.is_none().then_some(self.page.page)
    }

    /// The cursor of the page after one of `len` rows ending at `last_id`, out of `total`:
    /// none when this page is not full, or is the last by number.
    pub fn next(&self, total: u64, len: usize, last_id: Option<&str>) -> Option<String> {
        let full = u64::try_from(len).is_ok_and(|n| n == u64::from(self.page.limit));
        let more = match self.after {
            Some(_) => true,
            None => self.page.offset() + u64::from(self.page.limit) < total,
        };
        last_id.filter(|_| full && more).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_a_page_or_the_rows_after_a_cursor() {
        let w = Slice::parse(None, Some("2"), Some("act_1")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.after.as_ref().map(Cursor::as_str), Some("act_1"));
        assert_eq!(w.page, Page { page: 1, limit: 2 });
        let both = Slice::parse(Some("2"), None, Some("act_1")).map(|w| w.page.page);
        assert_eq!(both, Ok(1), "after replaces the page number");
        assert!(Slice::parse(None, None, Some("a b")).is_err());
        assert!(Slice::parse(None, None, Some(&"a".repeat(65))).is_err());
        assert!(Slice::parse(None, None, Some("")).is_err());
        assert_eq!(
            Slice::parse(Some("2"), Some("10"), None).map(|w| w.after),
            Ok(None)
        );
    }

    #[test]
    fn the_next_cursor_is_the_last_row_of_a_full_page_with_more_after_it() {
        let page = |n| Slice::from(Page { page: n, limit: 2 });
        assert_eq!(page(1).next(5, 2, Some("b")), Some("b".to_owned()));
        assert_eq!(page(2).next(4, 2, Some("d")), None);
        assert_eq!(page(3).next(5, 1, Some("e")), None);
        let after = Slice::parse(None, Some("2"), Some("b")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(after.next(5, 2, Some("d")), Some("d".to_owned()));
        assert_eq!(after.next(5, 1, Some("e")), None);
        assert_eq!(after.next(5, 0, None), None);
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(Page::parse(None, None), Ok(Page { page: 1, limit: 20 }));
        assert_eq!(
            Page::parse(Some("3"), Some("100")).map(Page::offset),
            Ok(200)
        );
        assert!(Page::parse(Some("0"), None).is_err());
        assert!(Page::parse(None, Some("101")).is_err());
        assert!(Page::parse(None, Some("0")).is_err());
        assert!(Page::parse(Some("-1"), None).is_err());
        assert!(Page::parse(Some("x"), None).is_err());
        assert_eq!(Page { page: 1, limit: 20 }.total_pages(41), 3);
        assert_eq!(Page { page: 1, limit: 20 }.total_pages(0), 0);
    }
}
