"""Everything that speaks SQL lives in this package."""
