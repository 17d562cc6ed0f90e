"""The NYSE calendar moved to optionflow.calendar (pricing and market both read it, and pricing must not
import market); this name stays so existing imports keep working."""

from optionflow.calendar import NEW_YORK, NyseCalendar, Session, trading_date

__all__ = ["NEW_YORK", "NyseCalendar", "Session", "trading_date"]
