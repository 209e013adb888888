"""一表通: the data-element dictionary, report templates, prefill, rules and values."""
