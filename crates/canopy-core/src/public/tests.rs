//! Tests of the public group view.
