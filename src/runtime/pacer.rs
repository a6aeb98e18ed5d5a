//! When the loop draws: at once after the user's input (a key, a click, a
//! resize), and at most once per [`FRAME`] for everything else. Background
//! answers arrive by the thousand while a fleet loads (5,000 statuses and
//! their watches' events); a frame per message made the frames, not the
//! statuses, the largest cost of the first screen, and a cost that grew
//! faster than the fleet. A change is never dropped: the loop wakes when the
//! next frame is due and draws what changed meanwhile.

use std::time::Duration;
use tokio::time::Instant;

/// The shortest gap between two frames drawn for background changes
/// (30 frames a second: smooth spinners, and a first screen of 5,000 apps
/// draws a few hundred frames, not one per answer).
pub const FRAME: Duration = Duration::from_millis(33);

#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    last: Option<Instant>,
    gap: Duration,
    /// The user acted since the last frame: the next one is drawn at once.
    urgent: bool,
}

impl Pacer {
    pub fn new(gap: Duration) -> Pacer {
        Pacer {
            last: None,
            gap,
            urgent: true,
        }
    }

    /// The user acted: what it changed is drawn without waiting.
    pub fn input(&mut self) {
        self.urgent = true;
    }

    /// Whether a dirty screen is drawn now.
    pub fn due(&self, now: Instant) -> bool {
        self.urgent || self.last.is_none_or(|last| now >= last + self.gap)
    }

    /// When a dirty screen not drawn now will be.
    pub fn next_at(&self) -> Instant {
        match self.last {
            Some(last) if !self.urgent => last + self.gap,
            _ => Instant::now(),
        }
    }

    pub fn drawn(&mut self, now: Instant) {
        self.last = Some(now);
        self.urgent = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_frame_and_frames_after_input_are_drawn_at_once() {
        let t0 = Instant::now();
        let mut p = Pacer::new(FRAME);
        assert!(p.due(t0), "nothing drawn yet");
        p.drawn(t0);
        let soon = t0 + Duration::from_millis(1);
        assert!(!p.due(soon), "a background change 1 ms after a frame waits");
        p.input();
        assert!(p.due(soon), "a key 1 ms after a frame is drawn at once");
        p.drawn(soon);
        assert!(!p.due(soon + Duration::from_millis(2)));
    }

    #[test]
    fn background_changes_are_drawn_at_most_once_per_gap() {
        let t0 = Instant::now();
        let mut p = Pacer::new(FRAME);
        p.drawn(t0);
        assert_eq!(p.next_at(), t0 + FRAME, "the loop wakes for the next frame");
        assert!(!p.due(t0 + FRAME - Duration::from_millis(1)));
        assert!(p.due(t0 + FRAME));
        // An answer every millisecond for a second draws about 30 frames.
        let mut frames = 0;
        for ms in 0..1000u64 {
            let at = t0 + FRAME + Duration::from_millis(ms);
            if p.due(at) {
                p.drawn(at);
                frames += 1;
            }
        }
        assert!((29..=32).contains(&frames), "{frames} frames in a second");
    }
}
