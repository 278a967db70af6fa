"""The main sections of the top bar, and which views belong to each."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    url_name: str
    # View names (namespace:name) or namespace prefixes ("releases:") that mark the section current.
    matches: tuple[str, ...]


SECTIONS = (
    Section("dashboard", "Dashboard", "insights:dashboard", ("insights:dashboard",)),
    Section(
        "calendar",
        "Calendar",
        "releases:calendar",
        ("releases:calendar", "releases:departure_detail"),
    ),
    Section("trains", "Trains", "releases:train_list", ("releases:",)),
    Section("hotfixes", "Hotfixes", "incidents:hotfix_list", ("incidents:hotfix",)),
    Section("incidents", "Incidents", "incidents:incident_list", ("incidents:",)),
    Section("flags", "Flags", "flags:flag_list", ("flags:",)),
    Section("metrics", "Metrics", "insights:metrics", ("insights:metrics",)),
)


def current_section(view_name: str | None) -> str | None:
    if not view_name:
        return None
    for section in SECTIONS:
        if any(view_name.startswith(match) for match in section.matches):
            return section.key
    return None
