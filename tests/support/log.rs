//! The function's log, captured per test. The log is the process's, set up once as the function
//! sets it up (`rootwatch::logging`); each line goes to the capture of the thread that wrote it,
//! if that thread opened one, and nowhere otherwise. A test on a current-thread runtime keeps the
//! function on its own thread, so it reads its own lines and none of the tests running beside it.
//!
//! Not a subscriber scoped to the test's thread (`tracing::dispatcher::set_default`): tracing
//! caches, per log statement, whether any subscriber wants it, and while a scoped subscriber is
//! the only one it asks the subscriber of the thread that reaches the statement first. A
//! statement another test reached first was cached as wanted by no one, and the capturing test
//! lost its lines (seen at 8 test threads).

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, Once};

type Lines = Arc<Mutex<Vec<u8>>>;

thread_local! {
    static CAPTURE: RefCell<Option<Lines>> = const { RefCell::new(None) };
}

/// What this thread logs, from [`Capture::start`] until the capture is dropped.
pub struct Capture {
    lines: Lines,
}

impl Capture {
    pub fn start() -> Self {
        static LOG: Once = Once::new();
        LOG.call_once(|| rootwatch::logging::init_with_writer(|| ToThisThread));
        let lines = Lines::default();
        CAPTURE.with_borrow_mut(|capture| *capture = Some(Arc::clone(&lines)));
        Capture { lines }
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.lines.lock().unwrap().clone()).expect("the log is UTF-8")
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        CAPTURE.with_borrow_mut(|capture| *capture = None);
    }
}

/// Writes to the capture of the thread that logs, if it has one.
struct ToThisThread;

impl Write for ToThisThread {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        CAPTURE.with_borrow(|capture| {
            if let Some(lines) = capture {
                lines.lock().unwrap().extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
