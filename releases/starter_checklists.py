"""The checklists every new team starts with, and can then edit as its own.

Plain data (no models) so that the data migration can use it too. Each item is
(stage, text, help text, required, who may tick: "captain" or "member").
"""

STARTERS = [
    {
        "name": "Standard release",
        "kind": "standard",
        "description": "What every scheduled release goes through, from the cut to monitoring.",
        "items": [
            ("before_cut", "Changes on the train are merged and green in CI", "", True, "member"),
            ("before_cut", "Release notes drafted", "Link them in the note.", False, "member"),
            ("before_approval", "Staging deploy passed smoke tests", "", True, "member"),
            ("before_approval", "Migrations reviewed for locks and reversibility",
             "Anything irreversible goes in the rollback plan's data section.", True, "member"),
            ("before_approval", "Rollback plan reviewed", "", True, "captain"),
            ("during_deploy", "Announce the deploy in the team channel", "", False, "captain"),
            ("during_deploy", "Production deploy finished without errors", "", True, "captain"),
            ("after_release", "Error rate and latency normal for 30 minutes",
             "Watch the dashboards listed in the rollback plan.", True, "captain"),
            ("after_release", "Release notes published", "", False, "member"),
        ],
    },
    {
        "name": "Hotfix",
        "kind": "hotfix",
        "description": "Short and safe: fix one thing, verify it, watch it.",
        "items": [
            ("before_approval", "Fix reviewed by a second engineer", "", True, "member"),
            ("before_approval", "Fix verified on staging", "", True, "member"),
            ("during_deploy", "Production deploy finished without errors", "", True, "captain"),
            ("after_release", "Incident channel updated", "", True, "captain"),
            ("after_release", "Follow-up fix or ticket filed", "", False, "member"),
        ],
    },
    {
        "name": "Release rehearsal (database migrations / infrastructure)",
        "kind": "rehearsal",
        "description": "For critical releases: rehearse the release and its rollback first.",
        "items": [
            ("before_approval", "Migration rehearsed on a copy of production data",
             "Note how long it took.", True, "captain"),
            ("before_approval", "Rollback rehearsed end to end", "", True, "captain"),
            ("before_approval", "Backup taken and restore tested", "", True, "member"),
            ("before_approval", "Failure modes written down and roles assigned", "", True,
             "captain"),
            ("during_deploy", "Everyone with a role is online", "", True, "captain"),
            ("after_release", "Data checks after the migration passed", "", True, "member"),
        ],
    },
]  # fmt: skip
