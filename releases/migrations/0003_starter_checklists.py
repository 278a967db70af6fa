"""Teams that existed before checklists get the starter set, and their trains the standard one."""

from django.db import migrations

from releases.starter_checklists import STARTERS


def give_existing_teams_starters(apps, schema_editor):
    Team = apps.get_model("accounts", "Team")
    Template = apps.get_model("releases", "ChecklistTemplate")
    Item = apps.get_model("releases", "ChecklistTemplateItem")
    Train = apps.get_model("releases", "Train")
    for team in Team.objects.all():
        if Template.objects.filter(team=team).exists():
            continue
        for starter in STARTERS:
            template = Template.objects.create(
                team=team,
                name=starter["name"],
                kind=starter["kind"],
                description=starter["description"],
            )
            Item.objects.bulk_create(
                Item(
                    template=template,
                    stage=stage,
                    position=position,
                    text=text,
                    help_text=help_text,
                    is_required=required,
                    tickable_by=tickable_by,
                )
                for position, (stage, text, help_text, required, tickable_by) in enumerate(
                    starter["items"], start=1
                )
            )
            if starter["kind"] == "standard":
                Train.objects.filter(team=team, checklist_template=None).update(
                    checklist_template=template
                )


class Migration(migrations.Migration):
    dependencies = [("releases", "0002_checklists"), ("accounts", "0001_initial")]

    operations = [migrations.RunPython(give_existing_teams_starters, migrations.RunPython.noop)]
