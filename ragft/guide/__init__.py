"""The decision guide: factors, rules, presets, evidence, texts, export."""
