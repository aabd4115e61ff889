"""Each scheduler's spelling of a job. Pure: text in, text out; nothing is written here, so
`schedule show` prints exactly what `schedule install` writes."""

from __future__ import annotations

import plistlib
import re
import shlex
import subprocess
from xml.sax.saxutils import escape

from claude_backup.schedule.spec import NAME, JobSpec

SERVICE = f"{NAME}.service"
TIMER = f"{NAME}.timer"
LAUNCHD_LABEL = "ai.claude-backup.sync"
TASK_NAME = NAME
CRON_BEGIN = f"# BEGIN {NAME} schedule (managed by `{NAME} schedule`; do not edit)"
CRON_END = f"# END {NAME} schedule"
TIMEOUT_HOURS = 4  # a run still going after this is stopped, and reported as interrupted


# systemd ------------------------------------------------------------------------------------


def systemd_quote(arg: str) -> str:
    """One ExecStart= word: `%` and `$` escaped (specifiers, variables), quoted if needed."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if text and not re.search(r"[\s\"'\\;]", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_units(job: JobSpec) -> dict[str, str]:
    """The service and timer unit files, by file name."""
    when = job.timing
    hours = ",".join(f"{h:02d}" for h in when.hours)
    environment = "".join(
        f"Environment={systemd_quote(f'{name}={value}')}\n"
        for name, value in job.environment.items()
    )
    service = (
        "[Unit]\n"
        f"Description=Back up Claude.ai chats to {job.archive}\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"{environment}"
        f"ExecStart={' '.join(systemd_quote(a) for a in job.argv)}\n"
        f"TimeoutStartSec={TIMEOUT_HOURS}h\n"
        "Nice=10\n"
        "IOSchedulingClass=idle\n"
    )
    timer = (
        "[Unit]\n"
        f"Description=Back up Claude.ai chats {when.describe()}\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {hours}:{when.minute:02d}:00\n"
        "Persistent=true\n"
        "AccuracySec=1min\n"
        f"Unit={SERVICE}\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {SERVICE: service, TIMER: timer}


# launchd ------------------------------------------------------------------------------------


def launchd_plist(job: JobSpec) -> bytes:
    """A per-user launch agent; StartCalendarInterval runs a missed job at wake-up."""
    intervals = [{"Hour": h, "Minute": job.timing.minute} for h in job.timing.hours]
    agent: dict[str, object] = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(job.argv),
        "StartCalendarInterval": intervals[0] if len(intervals) == 1 else intervals,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "RunAtLoad": False,
    }
    if job.environment:
        agent["EnvironmentVariables"] = dict(job.environment)
    if job.log is not None:
        agent["StandardOutPath"] = str(job.log)
        agent["StandardErrorPath"] = str(job.log)
    return plistlib.dumps(agent, fmt=plistlib.FMT_XML, sort_keys=False)


# cron ---------------------------------------------------------------------------------------


def cron_block(job: JobSpec) -> str:
    """Our lines of a crontab, between markers so that install and remove touch nothing else.
    `%` means a newline to cron, so it is escaped."""
    when = job.timing
    hours = "*" if len(when.hours) == 24 else ",".join(str(h) for h in when.hours)
    words = [f"{n}={shlex.quote(v)}" for n, v in job.environment.items()]
    words += [shlex.quote(a) for a in job.argv]
    command = " ".join(words).replace("%", "\\%")
    return f"{CRON_BEGIN}\n{when.minute} {hours} * * * {command}\n{CRON_END}\n"


def without_cron_block(crontab: str) -> str:
    """The crontab less our block (every copy of it)."""
    kept: list[str] = []
    inside = False
    for line in crontab.splitlines(keepends=True):
        if line.strip() == CRON_BEGIN:
            inside = True
        elif inside and line.strip() == CRON_END:
            inside = False
        elif not inside:
            kept.append(line if line.endswith("\n") else line + "\n")
    return "".join(kept)


def with_cron_block(crontab: str, job: JobSpec) -> str:
    kept = without_cron_block(crontab)
    if kept and not kept.endswith("\n\n"):
        kept += "\n"
    return kept + cron_block(job)


def cron_block_of(crontab: str) -> str | None:
    """Our block as found in `crontab`, or None."""
    if CRON_BEGIN not in crontab:
        return None
    start = crontab.index(CRON_BEGIN)
    end = crontab.find(CRON_END, start)
    return crontab[start : (end + len(CRON_END) if end >= 0 else len(crontab))]


# Windows Task Scheduler ---------------------------------------------------------------------


def task_xml(job: JobSpec) -> str:
    """A Task Scheduler task (schema 1.2) for `schtasks /Create /XML`: runs as the user while
    logged on (no password stored), a missed run starts as soon as it can."""
    when = job.timing
    first = when.hours[0]
    repetition = ""
    if len(when.hours) > 1:
        repetition = (
            "      <Repetition>\n"
            f"        <Interval>PT{when.interval_hours}H</Interval>\n"
            "        <Duration>P1D</Duration>\n"
            "      </Repetition>\n"
        )
    command, *arguments = job.argv
    return (
        '<?xml version="1.0" encoding="UTF-16"?>\n'
        '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n'
        "  <RegistrationInfo>\n"
        f"    <Description>Back up Claude.ai chats to {escape(str(job.archive))}"
        f" ({escape(when.describe())})</Description>\n"
        "  </RegistrationInfo>\n"
        "  <Triggers>\n"
        "    <CalendarTrigger>\n"
        f"      <StartBoundary>2026-01-01T{first:02d}:{when.minute:02d}:00</StartBoundary>\n"
        f"{repetition}"
        "      <Enabled>true</Enabled>\n"
        "      <ScheduleByDay>\n"
        "        <DaysInterval>1</DaysInterval>\n"
        "      </ScheduleByDay>\n"
        "    </CalendarTrigger>\n"
        "  </Triggers>\n"
        "  <Principals>\n"
        '    <Principal id="Author">\n'
        "      <LogonType>InteractiveToken</LogonType>\n"
        "      <RunLevel>LeastPrivilege</RunLevel>\n"
        "    </Principal>\n"
        "  </Principals>\n"
        "  <Settings>\n"
        "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n"
        "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n"
        "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n"
        "    <StartWhenAvailable>true</StartWhenAvailable>\n"
        f"    <ExecutionTimeLimit>PT{TIMEOUT_HOURS}H</ExecutionTimeLimit>\n"
        "    <Enabled>true</Enabled>\n"
        "  </Settings>\n"
        '  <Actions Context="Author">\n'
        "    <Exec>\n"
        f"      <Command>{escape(command)}</Command>\n"
        f"      <Arguments>{escape(subprocess.list2cmdline(arguments))}</Arguments>\n"
        "    </Exec>\n"
        "  </Actions>\n"
        "</Task>\n"
    )
