//! modelgpt-targets
