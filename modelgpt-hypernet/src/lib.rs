//! modelgpt-hypernet
