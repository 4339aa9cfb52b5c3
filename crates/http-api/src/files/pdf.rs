//! PDF tables (printpdf, no layout engine): a title, lines under it (period, generation time),
//! then the table with its header repeated on every page, a totals line and page numbers. The
//! text is set in DejaVu Sans Mono, embedded (subset), so Latin, Cyrillic and Uzbek letters
//! (`oʻ`, `gʻ`, `Ў`, `Қ`) print and copy out as text, and a fixed advance makes columns line up.

use crate::error::{ApiError, ApiResult};
use printpdf::{FontId, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem};

/// DejaVu Sans Mono (Bitstream Vera licence, `assets/fonts/DejaVuSansMono-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
/// The font's advance width as a share of its size.
const ADVANCE: f32 = 0.602;
/// A cell wider than this many characters is cut with `…`.
const MAX_COLUMN: usize = 40;
const GAP: usize = 2;
const MARGIN_MM: f32 = 15.0;
const LARGEST_SIZE: f32 = 9.0;
const SMALLEST_PORTRAIT_SIZE: f32 = 6.5;

/// A table to print.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub title: String,
    /// Lines under the title (the period, when it was generated).
    pub lines: Vec<String>,
    pub headers: Vec<String>,
    /// Which columns are numbers (right-aligned).
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    /// The totals line, printed under the last row.
    pub totals: Option<Vec<String>>,
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn line_of(cells: &[String], widths: &[usize], numeric: &[bool]) -> String {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let cell = cut(cell, *width);
        let pad = width - cell.chars().count();
        if i > 0 {
            line.push_str(&" ".repeat(GAP));
        }
        if numeric.get(i).copied().unwrap_or(false) {
            line.push_str(&" ".repeat(pad));
            line.push_str(&cell);
        } else {
            line.push_str(&cell);
            line.push_str(&" ".repeat(pad));
        }
    }
    line.trim_end().to_string()
}

/// One line of text at a position.
fn text(font: &FontId, size: f32, x_mm: f32, y_pt: f32, content: String) -> [Op; 5] {
    [
        Op::StartTextSection,
        Op::SetFont { font: PdfFontHandle::External(font.clone()), size: Pt(size) },
        Op::SetTextCursor { pos: Point { x: Mm(x_mm).into(), y: Pt(y_pt) } },
        Op::ShowText { items: vec![TextItem::Text(content)] },
        Op::EndTextSection,
    ]
}

/// The table as a PDF document.
pub fn render(table: &Table) -> ApiResult<Vec<u8>> {
    let font = ParsedFont::from_bytes(FONT, 0, &mut Vec::new())
        .ok_or_else(|| ApiError::internal("the embedded PDF font does not parse"))?;
    let mut widths: Vec<usize> = table.headers.iter().map(|h| h.chars().count()).collect();
    for row in table.rows.iter().chain(table.totals.iter()) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count().min(MAX_COLUMN));
        }
    }
    let chars = (widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1)).max(1) as f32;
    let fit = |page_mm: f32| (Mm(page_mm - 2.0 * MARGIN_MM).into_pt().0 / (ADVANCE * chars)).min(LARGEST_SIZE);
    // Portrait while the table fits at a readable size, else landscape.
    let (page_w, page_h, size) = if fit(210.0) >= SMALLEST_PORTRAIT_SIZE {
        (210.0, 297.0, fit(210.0))
    } else {
        (297.0, 210.0, fit(297.0).max(4.0))
    };
    let step = size * 1.4;
    let top = Mm(page_h - MARGIN_MM).into_pt().0;
    let bottom = Mm(MARGIN_MM).into_pt().0 + step * 2.0;
    let header = line_of(&table.headers, &widths, &table.numeric);
    let rule = "-".repeat(header.chars().count().max(chars as usize));

    let mut doc = PdfDocument::new(&table.title);
    let font_id = doc.add_font(&font);
    // Lines laid out page by page: (size, y, text).
    let mut pages: Vec<Vec<(f32, f32, String)>> = Vec::new();
    let mut page: Vec<(f32, f32, String)> = Vec::new();
    let mut y = top;
    page.push((14.0, y, table.title.clone()));
    y -= 14.0 * 1.6;
    for line in &table.lines {
        page.push((size.max(8.0), y, line.clone()));
        y -= size.max(8.0) * 1.4;
    }
    y -= step;
    let mut body: Vec<String> = table.rows.iter().map(|row| line_of(row, &widths, &table.numeric)).collect::<Vec<_>>();
    if let Some(totals) = &table.totals {
        body.push(rule.clone());
        body.push(line_of(totals, &widths, &table.numeric));
    }
    let mut pending = body.into_iter().peekable();
    loop {
        page.push((size, y, header.clone()));
        y -= step;
        page.push((size, y, rule.clone()));
        y -= step;
        while y > bottom {
            let Some(line) = pending.next() else { break };
            page.push((size, y, line));
            y -= step;
        }
        pages.push(std::mem::take(&mut page));
        if pending.peek().is_none() {
            break;
        }
        y = top;
    }
    let count = pages.len();
    let pdf_pages = pages
        .into_iter()
        .enumerate()
        .map(|(i, lines)| {
            let mut ops = Vec::with_capacity(lines.len() * 5 + 5);
            for (size, y, content) in lines {
                ops.extend(text(&font_id, size, MARGIN_MM, y, content));
            }
            let footer = format!("Page {} of {count}", i + 1);
            ops.extend(text(&font_id, 7.0, MARGIN_MM, Mm(MARGIN_MM / 2.0).into_pt().0, footer));
            PdfPage::new(Mm(page_w), Mm(page_h), ops)
        })
        .collect();
    Ok(doc.with_pages(pdf_pages).save(&PdfSaveOptions::default(), &mut Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_long_cells_are_cut() {
        let widths = [6, 5];
        let line = line_of(&["Lead".into(), "12".into()], &widths, &[false, true]);
        assert_eq!(line, "Lead       12");
        assert_eq!(cut("Toshkent viloyati", 8), "Toshkent".chars().take(7).collect::<String>() + "…");
    }

    #[test]
    fn long_tables_span_pages() {
        let table = Table {
            title: "Accounts report".into(),
            lines: vec!["Period: 2026-01-01 to 2026-12-05".into()],
            headers: vec!["Industry".into(), "Accounts".into()],
            numeric: vec![false, true],
            rows: (0..300).map(|i| vec![format!("Sanoat {i}"), i.to_string()]).collect(),
            totals: Some(vec!["Total".into(), "44850".into()]),
        };
        let bytes = render(&table).unwrap();
        assert!(bytes.starts_with(b"%PDF"));
        let pages = bytes.windows(b"/Type /Page\n".len()).filter(|w| *w == b"/Type /Page\n").count();
        let pages = pages.max(bytes.windows(b"/Type/Page/".len()).filter(|w| *w == b"/Type/Page/").count());
        assert!(pages >= 1);
    }
}
