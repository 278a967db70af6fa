"""How the product writes a moment in words: in the viewer's timezone, with the zone named."""

from datetime import datetime

from django.utils import timezone
from django.utils.dateformat import format as date_format


def local_moment(moment: datetime, *, year: bool = False) -> str:
    """ "Tue 3 Mar, 14:00 CET" (or with the year) in the active timezone, for flash messages."""
    return date_format(timezone.localtime(moment), "D j M Y, H:i T" if year else "D j M, H:i T")
