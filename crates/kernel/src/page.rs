//! Offset pagination shared by every list.

/// Which page of a list to return; `page` starts at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    /// A request for `page` (1-based) with `per_page` items.
    pub fn new(page: u64, per_page: u64) -> Self {
        PageRequest { page: page.max(1), per_page: per_page.max(1) }
    }

    /// Number of rows to skip (at most `i64::MAX`, what databases can take).
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page).min(i64::MAX as u64)
    }
}

/// One page of results and the total number of matching items.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// A page with no items of an empty list.
    pub fn empty(request: PageRequest) -> Self {
        Page { items: Vec::new(), total: 0, request }
    }

    /// Number of pages for `total` items (0 when there are none).
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(self.request.per_page)
    }

    /// Whether a page follows this one.
    pub fn has_next(&self) -> bool {
        self.request.page < self.total_pages()
    }

    /// Maps the items, keeping the counts.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), total: self.total, request: self.request }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_arithmetic() {
        let page = Page { items: vec![1], total: 21, request: PageRequest::new(3, 10) };
        assert_eq!(page.total_pages(), 3);
        assert!(!page.has_next());
        assert_eq!(page.request.offset(), 20);
        let empty: Page<i32> = Page { items: vec![], total: 0, request: PageRequest::new(1, 10) };
        assert_eq!(empty.total_pages(), 0);
    }
}
