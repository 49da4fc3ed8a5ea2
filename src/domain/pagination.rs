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

#[cfg(test)]
mod tests {
    use super::*;

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
