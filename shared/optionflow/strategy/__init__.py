"""Strategy math: indicators over bars; pure, like pricing/."""
