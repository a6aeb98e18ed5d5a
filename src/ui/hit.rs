//! Where the last frame put things, for the mouse: each pane's rectangle
//! and, for lists, which list row is on which screen line. The renderer
//! fills it while drawing (it alone knows the scroll offsets ratatui chose),
//! the runtime keeps the last one, and [`hit`] turns a pointer position
//! into the [`Hit`] the reducer acts on.

use crate::app::mouse::{Hit, Region};
use ratatui::layout::{Position, Rect};

/// A list's rows on screen: row `first` of the list is on line `top`, and
/// `count` rows follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    /// The whole pane (or dialog).
    pub area: Rect,
    pub top: u16,
    pub first: usize,
    pub count: usize,
}

impl Rows {
    fn row_at(&self, y: u16) -> Option<usize> {
        let line = usize::from(y.checked_sub(self.top)?);
        (line < self.count).then_some(self.first + line)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScreenMap {
    regions: Vec<(Rect, Region, Option<Rows>)>,
}

impl ScreenMap {
    pub(super) fn push(&mut self, area: Rect, region: Region, rows: Option<Rows>) {
        self.regions.push((area, region, rows));
    }
}

/// What is under column `x`, line `y`; what was drawn last (a dialog over
/// the panes) wins.
pub fn hit(map: &ScreenMap, x: u16, y: u16) -> Option<Hit> {
    let (_, region, rows) = map
        .regions
        .iter()
        .rev()
        .find(|(area, _, _)| area.contains(Position::new(x, y)))?;
    Some(Hit {
        region: *region,
        row: rows.and_then(|r| r.row_at(y)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Focus;

    #[test]
    fn the_last_drawn_region_wins_and_rows_map_to_list_indices() {
        let mut map = ScreenMap::default();
        let apps = Rect::new(0, 0, 40, 10);
        map.push(
            apps,
            Region::Pane(Focus::Apps),
            Some(Rows {
                area: apps,
                top: 2,
                first: 5,
                count: 3,
            }),
        );
        map.push(Rect::new(10, 3, 10, 3), Region::Chooser, None);
        let at = |x, y| hit(&map, x, y);
        assert_eq!(at(1, 2).and_then(|h| h.row), Some(5));
        assert_eq!(at(1, 4).and_then(|h| h.row), Some(7));
        assert_eq!(
            at(1, 5).map(|h| (h.region, h.row)),
            Some((Region::Pane(Focus::Apps), None))
        );
        assert_eq!(at(1, 1).and_then(|h| h.row), None);
        assert_eq!(at(12, 4).map(|h| h.region), Some(Region::Chooser));
        assert_eq!(at(50, 4), None);
    }
}
