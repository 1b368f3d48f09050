//! The doorbell: only the state table's stream rings, and only the item itself is read.
