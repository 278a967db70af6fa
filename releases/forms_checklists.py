"""Forms for checklist templates and a train's release settings.

Forms parse and check input; the services in releases/services/checklists.py and
releases/services/rollback.py decide and write.
"""

from django import forms

from accounts.models import Team
from releases.models import (
    ChecklistTemplate,
    ChecklistTemplateItem,
    RevertMethod,
    Stage,
    TemplateKind,
    TickableBy,
    Train,
    TrainRollbackDefaults,
)
from releases.services.rollback import RollbackAnswersInput

KIND_HELP = (
    "Release: for a train's scheduled releases. Hotfix: for hotfixes. "
    "Rehearsal: added on top when a release is marked critical."
)
MAX_REVERT_MINUTES = 24 * 60


class ChecklistTemplateForm(forms.Form):
    """Name, kind and description; on "New checklist" also the team it belongs to."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), empty_label=None, help_text="The team that uses it."
    )
    name = forms.CharField(max_length=100, help_text="Unique within the team, e.g. “Hotfix”.")
    kind = forms.ChoiceField(choices=TemplateKind.choices, help_text=KIND_HELP)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="When to use it; shown above the items.",
    )

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        if teams is None:
            del self.fields["team"]  # editing: the team never changes
        else:
            self.fields["team"].queryset = teams

    @classmethod
    def initial_for(cls, template: ChecklistTemplate) -> dict:
        return {
            "name": template.name,
            "kind": template.kind,
            "description": template.description,
        }


class TemplateItemForm(forms.Form):
    text = forms.CharField(label="Item", max_length=200, help_text="What must be done, briefly.")
    stage = forms.ChoiceField(choices=Stage.choices, initial=Stage.BEFORE_APPROVAL)
    help_text = forms.CharField(
        label="Help text",
        max_length=500,
        required=False,
        help_text="How to do it or where to look; shown under the item.",
    )
    is_required = forms.BooleanField(
        label="Required: the release cannot move on while it is open",
        required=False,
        initial=True,
    )
    tickable_by = forms.ChoiceField(
        label="Who may tick it", choices=TickableBy.choices, initial=TickableBy.MEMBER
    )

    @classmethod
    def initial_for(cls, item: ChecklistTemplateItem) -> dict:
        return {
            "text": item.text,
            "stage": item.stage,
            "help_text": item.help_text,
            "is_required": item.is_required,
            "tickable_by": item.tickable_by,
        }

    def item_fields(self) -> dict:
        """Keyword arguments for template_item_add / template_item_update."""
        return {name: self.cleaned_data[name] for name in self.fields}


class TrainReleaseSettingsForm(forms.Form):
    """Which checklist a train's releases get, and the rollback plan they start from."""

    checklist_template = forms.ModelChoiceField(
        label="Checklist",
        queryset=ChecklistTemplate.objects.none(),
        required=False,
        empty_label="No checklist",
        help_text="Each release gets a copy at cut; later edits never change running releases.",
    )
    detection = forms.CharField(
        label="How will we know it is wrong?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Signals, dashboards and alerts to watch. One link per line.",
    )
    revert_method = forms.ChoiceField(
        label="How do we revert?",
        choices=[("", "Not decided"), *RevertMethod.choices],
        required=False,
    )
    revert_minutes = forms.IntegerField(
        label="Minutes to revert",
        required=False,
        min_value=0,
        max_value=MAX_REVERT_MINUTES,
        help_text="How long a revert takes, roughly.",
    )
    revert_notes = forms.CharField(
        label="Revert steps",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when the method is “Other”.",
    )
    data_impact = forms.CharField(
        label="What data might be affected?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Migrations, irreversible changes, external side effects. Say “none” if none.",
    )
    requires_rollback_plan = forms.BooleanField(
        label="Require a complete rollback plan before approval", required=False
    )

    ANSWERS = ("detection", "revert_method", "revert_minutes", "revert_notes", "data_impact")

    def __init__(self, *args, train: Train, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checklist_template"].queryset = ChecklistTemplate.objects.filter(
            team_id=train.team_id
        ).order_by("name")

    @classmethod
    def initial_for(cls, train: Train, defaults: TrainRollbackDefaults | None) -> dict:
        initial = {
            "checklist_template": train.checklist_template_id,
            "requires_rollback_plan": train.requires_rollback_plan,
        }
        if defaults is not None:
            initial.update({name: getattr(defaults, name) for name in cls.ANSWERS})
        return initial

    def answers(self) -> RollbackAnswersInput:
        return RollbackAnswersInput(**{name: self.cleaned_data[name] for name in self.ANSWERS})

    @property
    def template_changed(self) -> bool:
        return "checklist_template" in self.changed_data

    @property
    def rollback_changed(self) -> bool:
        return bool({*self.ANSWERS, "requires_rollback_plan"} & set(self.changed_data))
