from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="ScheduledRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("job", models.CharField(max_length=40, verbose_name="定时任务")),
                ("period", models.CharField(max_length=20, verbose_name="周期")),
                ("enqueued_at", models.DateTimeField(auto_now_add=True)),
                ("task_id", models.CharField(blank=True, max_length=64)),
            ],
            options={"ordering": ["-enqueued_at"]},
        ),
        migrations.AddConstraint(
            model_name="scheduledrun",
            constraint=models.UniqueConstraint(fields=("job", "period"), name="one_run_per_job_and_period"),
        ),
    ]
