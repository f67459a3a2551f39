"""The callbacks app's pages, one module per part (several engineers add pages): desk.py the
callback desk, plans.py the sampling plans. Views are thin: reads through `selectors` (404 for
missing or not yours), writes through one action."""
