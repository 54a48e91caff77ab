//! modelgpt-llm
