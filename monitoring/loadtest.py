"""Concurrent coordinators against a real server (issue 8 §3; DESIGN §10): the engine of
``manage.py loadtest`` and of ``tests/security/test_load.py``.

- ``build`` creates a synthetic programme (``LOADTEST``) with enough agencies × cities for
  every coordinator to have a report slot of their own, except some pairs who share one on
  purpose, and quarters enough for the run; some coordinators also hold a write token.
- ``Server`` starts gunicorn (``monitoring.wsgi``) on a free port against the same database.
- ``run`` signs every coordinator in (session and CSRF, as a browser does), then, for a
  bounded time, has each load their report page, save figures with the version the page gave,
  and submit; API users do the same through the API every other quarter. Every response is
  recorded with its latency. Before the load, one user alone does the same work: the baseline.
- ``verify`` reads the database: no 5xx; every acknowledged save is in the final data or
  superseded by a later acknowledged save of the same cell; no two saves were acknowledged
  from the same version (a silent overwrite); every refusal said clearly why; acknowledged
  submissions are submitted.
- ``render`` prints the figures; ``remove`` deletes what ``build`` created.

Nothing here is served to users; the text it prints is an operator's report, in English."""

import contextlib
import http.client
import itertools
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

PROGRAMME = "LOADTEST"
PREFIX = "LT-"
COUNTRY = "XL"
DIMENSION = "lt_sex"
USER_PREFIX = "loadtest."
AGENCIES = 5

# Kinds of request, as printed; the API's are grouped as "API" too.
KINDS = ("login", "page", "save", "submit", "api_open", "api_save", "api_submit", "api_read")
GROUPS = {
    "page": ("page",),
    "save": ("save",),
    "submit": ("submit",),
    "API": ("api_open", "api_save", "api_submit", "api_read"),
}
# What a refusal must say (the client asks for English).
STALE_PAGE = "somebody else saved this report after you opened it"
STALE_API = "changed since you loaded it"
NOT_EDITABLE = "can no longer be edited"
MAX_ATTEMPTS = 8  # saves of one change refused as stale before the user gives up on it


# ---- the synthetic programme ------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorSpec:
    pk: int
    code: str
    categories: tuple[tuple[int, str], ...]  # (category id, "dimension=category")


@dataclass(frozen=True)
class ActivitySpec:
    pk: int
    code: str


@dataclass
class Coordinator:
    username: str
    agency: str
    city: str
    token: str = ""  # a write token: works through the API every other quarter
    pair: int | None = None  # shares its report slot with the other member of this pair
    first_of_pair: bool = False

    @property
    def api(self) -> bool:
        return bool(self.token)


@dataclass
class Plan:
    password: str
    periods: list[str]
    indicators: list[IndicatorSpec]
    activities: dict[str, list[ActivitySpec]]  # by agency code
    coordinators: list[Coordinator]
    baseline: Coordinator

    @property
    def pairs(self) -> int:
        return len({c.pair for c in self.coordinators if c.pair is not None})

    @property
    def api_users(self) -> int:
        return sum(c.api for c in self.coordinators)


def remove() -> None:
    """Delete everything ``build`` created (the programme, its reports, the accounts)."""
    from indicators.models import DisaggregationDimension
    from monitoring.models import Agency, City, Country, Programme

    with transaction.atomic():
        Programme.objects.filter(code=PROGRAMME).delete()
        User.objects.filter(username__startswith=USER_PREFIX).delete()
        City.objects.filter(code__startswith=PREFIX).delete()
        Agency.objects.filter(code__startswith=PREFIX).delete()
        Country.objects.filter(code=COUNTRY).delete()
        DisaggregationDimension.objects.filter(code=DIMENSION).delete()


def build(*, users: int, pairs: int, api_share: float, periods: int) -> Plan:
    """The programme, its quarters (open, starting with the current one) and ``users``
    coordinators (plus one for the baseline): ``pairs`` pairs share a slot, every other
    coordinator has one of their own; about ``api_share`` of them hold a write token.
    An earlier load programme is replaced; accounts are reused."""
    from indicators.models import (
        DisaggregationCategory,
        DisaggregationDimension,
        Indicator,
        Target,
    )
    from monitoring.loading.periods import quarter_bounds
    from monitoring.models import (
        Activity,
        Agency,
        ApiToken,
        City,
        Country,
        Membership,
        Outcome,
        Output,
        Programme,
        ProgrammeAgency,
        ProgrammeCity,
        ReportingPeriod,
    )

    if users < 1 or pairs < 0 or 2 * pairs > users:
        raise ValueError("need at least one user and at most users / 2 pairs")
    slots = users - pairs + 1  # one per single coordinator and pair, and the baseline's
    cities = -(-slots // AGENCIES)
    password = secrets.token_urlsafe(18)
    with transaction.atomic():
        Programme.objects.filter(code=PROGRAMME).delete()
        country, _ = Country.objects.get_or_create(
            code=COUNTRY, defaults={"name_es": "Carga", "name_en": "Load"}
        )
        agencies = [
            Agency.objects.get_or_create(
                code=f"{PREFIX}A{n}",
                defaults={
                    "acronym_es": f"LA{n}",
                    "acronym_en": f"LA{n}",
                    "name_es": f"Agencia de carga {n}",
                    "name_en": f"Load agency {n}",
                },
            )[0]
            for n in range(1, AGENCIES + 1)
        ]
        city_rows = [
            City.objects.get_or_create(
                code=f"{PREFIX}C{n:02d}",
                defaults={"country": country, "name_es": f"Ciudad {n}", "name_en": f"City {n}"},
            )[0]
            for n in range(1, cities + 1)
        ]
        today = timezone.localdate()
        year, quarter = today.year, (today.month - 1) // 3 + 1
        spans = []
        for _n in range(periods):
            spans.append((year, quarter, *quarter_bounds(year, quarter)))
            year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
        programme = Programme.objects.create(
            code=PROGRAMME,
            name_es="Programa de prueba de carga",
            name_en="Load test programme",
            short_name_es="Prueba de carga",
            short_name_en="Load test",
            start_date=spans[0][2],
            end_date=spans[-1][3],
            budget_total=1_000_000,
        )
        for i, agency in enumerate(agencies):
            ProgrammeAgency.objects.create(programme=programme, agency=agency, is_convening=i == 0)
        for city in city_rows:
            ProgrammeCity.objects.create(programme=programme, city=city)
        period_codes = []
        for y, q, start, end in spans:
            code = f"{y}-Q{q}"
            ReportingPeriod.objects.create(
                programme=programme,
                code=code,
                name_es=f"T{q} {y}",
                name_en=f"Q{q} {y}",
                start_date=start,
                end_date=end,
                due_date=end + (end - start),
            )
            period_codes.append(code)
        outcome = Outcome.objects.create(
            programme=programme, code="R1", title_es="Resultado 1", title_en="Outcome 1"
        )
        output = Output.objects.create(
            programme=programme,
            outcome=outcome,
            code="1.1",
            title_es="Producto 1.1",
            title_en="Output 1.1",
        )
        DisaggregationDimension.objects.filter(code=DIMENSION).delete()
        dimension = DisaggregationDimension.objects.create(
            code=DIMENSION, name_es="Sexo (carga)", name_en="Sex (load)", order=90
        )
        categories = [
            DisaggregationCategory.objects.create(
                dimension=dimension, code=code, name_es=es, name_en=en, order=n
            )
            for n, (code, es, en) in enumerate(
                (("female", "Mujeres", "Women"), ("male", "Hombres", "Men"))
            )
        ]
        indicators = []
        for k, (measure, disaggregated) in enumerate(
            (
                ("count", True),
                ("count", True),
                ("count", True),
                ("count", False),
                ("count", False),
                ("amount", False),
            )
        ):
            indicator = Indicator.objects.create(
                programme=programme,
                code=f"L{k + 1}",
                level="output",
                outcome=outcome,
                output=output,
                order=k,
                name_es=f"Indicador de carga {k + 1}",
                name_en=f"Load indicator {k + 1}",
                measure=measure,
                time_rule="sum",
                place_rule="sum",
                agency_rule="sum",
            )
            indicator.cities.set(city_rows)
            indicator.responsible_agencies.set(agencies)
            if disaggregated:
                indicator.dimensions.set([dimension])
            Target.objects.create(
                indicator=indicator, original_value=1000, value=1000, source="load test"
            )
            indicators.append(
                IndicatorSpec(
                    indicator.pk,
                    indicator.code,
                    tuple((c.pk, f"{DIMENSION}={c.code}") for c in categories)
                    if disaggregated
                    else (),
                )
            )
        activities: dict[str, list[ActivitySpec]] = {}
        for n, agency in enumerate(agencies, start=1):
            activity = Activity.objects.create(
                programme=programme,
                output=output,
                country=country,
                code=f"1.1.{n}",
                order=n,
                description_es=f"Actividad {n}",
                description_en=f"Activity {n}",
                lead_agency=agency,
            )
            activities[agency.code] = [ActivitySpec(activity.pk, activity.code)]

        slot_list = [(a.code, c.code) for c in city_rows for a in agencies]
        digest = make_password(password)  # one hash for every account: set up in a moment
        names = [f"{USER_PREFIX}{n:03d}" for n in range(1, users + 1)] + [f"{USER_PREFIX}base"]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        User.objects.bulk_create(
            [User(username=n, password=digest) for n in names if n not in existing]
        )
        User.objects.filter(username__in=names).update(password=digest, is_active=True)
        by_name = {u.username: u for u in User.objects.filter(username__in=names)}
        ApiToken.objects.filter(user__username__in=names).delete()
        agency_of = {a.code: a for a in agencies}
        city_of = {c.code: c for c in city_rows}

        coordinators: list[Coordinator] = []
        slot_iter = iter(slot_list)
        api_every = round(1 / api_share) if api_share > 0 else 0
        for n, name in enumerate(names[:-1]):
            if n < 2 * pairs:
                pair = n // 2
                if n % 2 == 0:
                    agency_code, city_code = next(slot_iter)
                else:
                    agency_code, city_code = coordinators[-1].agency, coordinators[-1].city
                # In every other pair the second member works through the API on odd quarters,
                # so the page and the API also meet on one report.
                api = n % 2 == 1 and pair % 2 == 1
                coordinator = Coordinator(
                    name, agency_code, city_code, pair=pair, first_of_pair=n % 2 == 0
                )
            else:
                agency_code, city_code = next(slot_iter)
                api = bool(api_every) and (n - 2 * pairs) % api_every == api_every - 1
                coordinator = Coordinator(name, agency_code, city_code)
            if api:
                coordinator.token = _token(by_name[name], programme, ApiToken)
            coordinators.append(coordinator)
        agency_code, city_code = next(slot_iter)
        base_name = names[-1]
        baseline = Coordinator(base_name, agency_code, city_code)
        baseline.token = _token(by_name[base_name], programme, ApiToken)
        Membership.objects.bulk_create(
            [
                Membership(
                    user=by_name[c.username],
                    programme=programme,
                    role=Membership.Role.COORDINATOR,
                    agency=agency_of[c.agency],
                    city=city_of[c.city],
                )
                for c in [*coordinators, baseline]
            ]
        )
    return Plan(password, period_codes, indicators, activities, coordinators, baseline)


def _token(user: User, programme: Any, model: Any) -> str:
    _row, key = model.issue(user=user, programme=programme, scope="write", days=1, name="load test")
    return str(key)


# ---- the server -------------------------------------------------------------------------


def database_url() -> str:
    """The URL of the database this process uses, for a server in another process. On SQLite,
    writers wait for each other (busy timeout) and transactions take the write lock when they
    begin, so concurrent requests queue instead of failing with "database is locked"."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        options = {"timeout": 60, "transaction_mode": "IMMEDIATE", **db.get("OPTIONS", {})}
        return f"sqlite:///{db['NAME']}?{urllib.parse.urlencode(options)}"
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise ValueError(f"unsupported database engine {db['ENGINE']}")
    user = urllib.parse.quote(db.get("USER") or "", safe="")
    password = f":{urllib.parse.quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user or password else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    query = urllib.parse.urlencode(db.get("OPTIONS") or {})
    return f"postgres://{auth}{host}:{port}/{db['NAME']}" + (f"?{query}" if query else "")


class Server:
    """gunicorn serving ``monitoring.wsgi`` on a free port of 127.0.0.1 (the port the kernel
    picks, read from gunicorn's log), with this process's settings and database."""

    def __init__(self, *, workers: int, threads: int, log_path: Path) -> None:
        self.workers, self.threads, self.log_path = workers, threads, log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.host, self.port = "127.0.0.1", 0

    def __enter__(self) -> "Server":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": str(settings.SETTINGS_MODULE),
            "DATABASE_URL": database_url(),
            "PYTHONUNBUFFERED": "1",
        }
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "monitoring.wsgi:application",
                "--bind",
                "127.0.0.1:0",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--worker-class",
                "gthread",
                "--timeout",
                "120",
                "--graceful-timeout",
                "10",
                "--log-level",
                "info",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        try:
            self._wait_until_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_ready(self, timeout: float = 90.0) -> None:
        assert self.process is not None
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            if not self.port:
                found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
                if found:
                    self.port = int(found.group(1))
            if self.port and self._get("/accounts/login/", timeout=10) == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in {timeout:.0f} s:\n{self.log_tail()}")

    def warm_up(self) -> None:
        """Let every worker load the application before anything is measured."""

        def hit() -> None:
            self._get("/accounts/login/", timeout=60)

        for _round in range(3):
            threads = [threading.Thread(target=hit) for _ in range(self.workers * self.threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by gunicorn's master and its workers (Linux /proc), or None."""
        if self.process is None:
            return None
        master = self.process.pid
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        try:
            for stat in Path("/proc").glob("[0-9]*/stat"):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    # the command name may hold spaces: fields count from after its ")"
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                    pid, ppid = int(stat.parent.name), int(fields[1])
                    if pid == master or ppid == master:
                        total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            return None
        return total / tick if total else None

    def _get(self, path: str, *, timeout: float) -> int:
        """The status of a GET, 0 when nothing answers."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            response = conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            return 0
        finally:
            conn.close()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def log_problems(self, lines: int = 60) -> str:
        """The log's warnings, errors and tracebacks, less the refusals the run expects
        (Django logs each 409 and 403 as a warning)."""
        expected = ("Conflict: /", "Forbidden: /")
        found = [
            line
            for line in self.log().splitlines()
            if any(word in line for word in ("WARNING", "ERROR", "CRITICAL", "Traceback", "Error"))
            and not any(e in line for e in expected)
        ]
        return "\n".join(found[-lines:])

    def __exit__(self, *exc: object) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        self.process = None


# ---- what happened ----------------------------------------------------------------------


@dataclass
class Sample:
    phase: str  # "baseline" or "load"
    kind: str
    status: int  # 0: no answer (connection refused, reset, timed out)
    seconds: float
    user: str


Cells = dict[tuple[str, ...], str]


@dataclass
class Write:
    """One attempt to change a report: what was sent, from which version, and the answer."""

    user: str
    slot: tuple[str, str, str]  # period, agency, city
    via: str  # "page" or "api"
    action: str  # "open", "save" or "submit"
    base: int
    cells: Cells
    status: int = 0
    outcome: str = "unknown"  # ok | conflict | refused | failed | unknown
    note: str = ""
    new_version: int | None = None


@dataclass
class UserTally:
    saves: int = 0
    submits: int = 0
    conflicts: int = 0
    refusals: int = 0
    gave_up: int = 0
    skipped: int = 0  # quarters found already submitted (by the partner)
    periods: int = 0
    error: str = ""


class Log:
    """Everything the simulated users saw, appended from their threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.writes: list[Write] = []
        self.tallies: dict[str, UserTally] = defaultdict(UserTally)
        self.serial = itertools.count(1)

    def sample(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def write(self, write: Write) -> None:
        with self.lock:
            self.writes.append(write)

    def next_serial(self) -> int:
        with self.lock:
            return next(self.serial)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class NoAnswer(Exception):
    """The server did not answer (connection refused or reset, timeout)."""


class Browser:
    """A cookie jar and a connection per request (``Connection: close``), asking for English.
    Each response is recorded with its latency (request sent → body read)."""

    def __init__(
        self, host: str, port: int, *, user: str, phase: str, log: Log, timeout: float
    ) -> None:
        self.host, self.port, self.user, self.phase = host, port, user, phase
        self.log, self.timeout = log, timeout
        self.cookies: dict[str, str] = {}

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        payload: Any = None,
        token: str = "",
    ) -> Reply:
        headers = {"Accept-Language": "en", "Connection": "close", "Host": self._host()}
        body: bytes | None = None
        if token:
            headers["Authorization"] = f"Token {token}"
        elif self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
            headers["Accept"] = "application/json"
        if method != "GET" and not token:
            headers["Origin"] = f"http://{self._host()}"
            headers["Referer"] = f"http://{self._host()}{path}"
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as error:
            elapsed = time.perf_counter() - started
            self.log.sample(Sample(self.phase, kind, 0, elapsed, self.user))
            raise NoAnswer(f"{method} {path}: {error!r}") from error
        elapsed = time.perf_counter() - started
        self.log.sample(Sample(self.phase, kind, response.status, elapsed, self.user))
        if not token:
            for header in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def _host(self) -> str:
        return f"{self.host}:{self.port}"


# ---- one simulated coordinator ----------------------------------------------------------

_VERSION = re.compile(r'<input[^>]*name="version"[^>]*value="(\d+)"[^>]*id="id_version"')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Page:
    version: int | None  # None: the report is not editable (no form)
    csrf: str


def parse_page(text: str) -> Page:
    version = _VERSION.search(text)
    csrf = _CSRF.search(text)
    return Page(int(version.group(1)) if version else None, unescape(csrf.group(1)) if csrf else "")


class Abort(Exception):
    """The user stops: something answered that should not have."""


class Session:
    """One coordinator's visit: sign in, then report quarter after quarter until the time is
    up (finishing the quarter in hand, and going on past the deadline until they have
    submitted once, within ``hard_stop``)."""

    def __init__(
        self,
        plan: Plan,
        who: Coordinator,
        browser: Browser,
        log: Log,
        rendezvous: threading.Barrier | None = None,
    ) -> None:
        self.plan, self.who, self.browser, self.log = plan, who, browser, log
        self.rendezvous = rendezvous
        self.tally = log.tallies[who.username]
        self.deadline = self.hard_stop = 0.0

    # -- sign in --

    def sign_in(self) -> None:
        page = self.browser.request("login", "GET", "/accounts/login/")
        self._expect(page, 200, "the sign-in page")
        csrf = parse_page(page.text).csrf
        reply = self.browser.request(
            "login",
            "POST",
            "/accounts/login/",
            form={
                "csrfmiddlewaretoken": csrf,
                "username": self.who.username,
                "password": self.plan.password,
                "next": "/",
            },
        )
        if reply.status != 302 or "sessionid" not in self.browser.cookies:
            raise Abort(f"sign-in of {self.who.username} answered {reply.status}")

    # -- the quarters --

    def work(self, deadline: float, hard_stop: float) -> None:
        self.deadline, self.hard_stop = deadline, hard_stop
        for i, period in enumerate(self.plan.periods):
            if self.finished():
                return
            self.tally.periods += 1
            pair = self.who.pair is not None
            submits = not pair or (i % 2 == 0) == self.who.first_of_pair
            if self.who.api and i % 2 == 1:
                self.api_quarter(period, submits=submits, pair=pair)
            else:
                self.page_quarter(period, submits=submits, pair=pair, meet=pair and i == 0)

    def finished(self) -> bool:
        now = time.monotonic()
        if now >= self.hard_stop:
            return True
        # Past the deadline: done once they have submitted; an API user, once they have also
        # worked a quarter through the API (the baseline must cover every kind of request).
        enough = self.tally.periods >= (2 if self.who.api else 1)
        return now >= self.deadline and self.tally.submits > 0 and enough

    def page_url(self, period: str) -> str:
        return f"/programmes/{PROGRAMME}/reports/{period}/{self.who.agency}/{self.who.city}/"

    def page_quarter(self, period: str, *, submits: bool, pair: bool, meet: bool) -> None:
        """Load the page, save (twice alone, once in a pair), submit (in a pair, every other
        quarter: the partner submits the others)."""
        page = self.load(period)
        if page.version is None:
            self.tally.skipped += 1
            return
        if meet and self.rendezvous is not None:
            # Both members of the pair have loaded the new report at version 0; both save now:
            # one of them must be refused.
            with contextlib.suppress(threading.BrokenBarrierError):
                self.rendezvous.wait(timeout=120)
        actions = (["save", "submit"] if submits else ["save", "save"]) if pair else None
        for action in actions or ["save", "save", "submit"]:
            next_page = self.page_write(period, page, action)
            if next_page is None or next_page.version is None:
                return
            page = next_page

    def load(self, period: str) -> Page:
        reply = self.browser.request("page", "GET", self.page_url(period))
        self._expect(reply, 200, "the report page")
        return parse_page(reply.text)

    def page_write(self, period: str, page: Page, action: str) -> Page | None:
        """Post the whole form as the page gave it (its version); when refused as stale, post
        again from the form the refusal returns (the current version), as the page invites."""
        url = self.page_url(period)
        for _attempt in range(MAX_ATTEMPTS):
            assert page.version is not None
            serial = self.log.next_serial()
            form, cells = self.page_form(serial, page, action)
            write = Write(
                self.who.username,
                (period, self.who.agency, self.who.city),
                "page",
                action,
                page.version,
                cells,
            )
            self.log.write(write)
            reply = self.browser.request(action, "POST", url, form=form)
            write.status = reply.status
            if reply.status == 302 and reply.headers.get("location") == url:
                write.outcome = "ok"
                self.tally.saves += 1
                self.tally.submits += action == "submit"
                return self.load(period)  # the redirect, followed as a browser does
            if reply.status == 409 and STALE_PAGE in reply.text:
                write.outcome = "conflict"
                self.tally.conflicts += 1
                page = parse_page(reply.text)
                if page.version is None:
                    return None
                continue
            if reply.status == 403 and NOT_EDITABLE in reply.text:
                write.outcome, write.note = "refused", "no longer editable"
                self.tally.refusals += 1
                return None
            write.outcome = "failed"
            write.note = _snippet(reply.text)
            raise Abort(f"{action} of {url} answered {reply.status}: {write.note}")
        self.tally.gave_up += 1
        return None

    def page_form(self, serial: int, page: Page, action: str) -> tuple[dict[str, str], Cells]:
        """Every field of the report form, with figures no other save uses, and what each
        should read in the database if this save is the last."""
        form = {
            "csrfmiddlewaretoken": page.csrf,
            "version": str(page.version),
            "action": action,
            "narrative_es": f"escrito {serial}",
            "narrative_en": f"written {serial}",
        }
        cells: Cells = {("narrative", "es"): form["narrative_es"]}
        cells[("narrative", "en")] = form["narrative_en"]
        for k, ind in enumerate(self.plan.indicators):
            p = f"i{ind.pk}"
            total = serial * 100 + k
            form[f"{p}_total"] = str(total)
            form[f"{p}_comment"] = f"w{serial}"
            form[f"{p}_url"] = ""
            cells[("value", ind.code, "total")] = str(total)
            cells[("comment", ind.code)] = f"w{serial}"
            for (pk, code), share in zip(
                ind.categories, _split(total, len(ind.categories)), strict=True
            ):
                form[f"{p}_c{pk}"] = str(share)
                cells[("value", ind.code, code)] = str(share)
        for activity in self.plan.activities[self.who.agency]:
            p = f"a{activity.pk}"
            form[f"{p}_status"] = "in_progress"
            form[f"{p}_progress"] = str(serial % 100)
            form[f"{p}_comment"] = f"w{serial}"
            cells[("activity", activity.code)] = f"in_progress|{serial % 100}|w{serial}"
        return form, cells

    # -- the API --

    def api_quarter(self, period: str, *, submits: bool, pair: bool) -> None:
        """Open the report, save every figure, then (alone) save half of them again, then
        submit; in a pair, submit or save again by turns, as on the page."""
        token = self.who.token
        reply = self.browser.request(
            "api_open",
            "POST",
            "/api/v1/reports/",
            payload={
                "programme": PROGRAMME,
                "period": period,
                "agency": self.who.agency,
                "city": self.who.city,
            },
            token=token,
        )
        slot = (period, self.who.agency, self.who.city)
        if reply.status == 201:
            self.log.write(Write(self.who.username, slot, "api", "open", 0, {}, 201, "ok"))
            self.tally.saves += 1
        elif reply.status != 200:
            raise Abort(f"opening {slot} answered {reply.status}: {_snippet(reply.text)}")
        report = reply.json()
        if report["status"] not in ("draft", "returned"):
            self.tally.skipped += 1
            return
        report_id, version = report["id"], report["version"]
        steps = [("save", True), ("submit", False) if submits else ("save", False)]
        if not pair:
            steps = [("save", True), ("save", False), ("submit", False)]
        for action, whole in steps:
            version = self.api_write(slot, report_id, version, action, whole=whole)
            if version is None:
                return

    def api_write(
        self, slot: tuple[str, str, str], report_id: int, version: int, action: str, *, whole: bool
    ) -> int | None:
        """PATCH the values (every figure, or half of them) or submit, with the version last
        seen; on a 409, read the report again and repeat. The new version, or None when the
        report can no longer be edited."""
        for _attempt in range(MAX_ATTEMPTS):
            serial = self.log.next_serial()
            payload: dict[str, Any]
            cells: Cells
            if action == "submit":
                path, method = f"/api/v1/reports/{report_id}/submit/", "POST"
                payload, cells = {"version": version}, {}
            else:
                path, method = f"/api/v1/reports/{report_id}/values/", "PATCH"
                payload, cells = self.api_payload(serial, version, whole=whole)
            write = Write(self.who.username, slot, "api", action, version, cells)
            self.log.write(write)
            reply = self.browser.request(
                f"api_{action}", method, path, payload=payload, token=self.who.token
            )
            write.status = reply.status
            body = (
                reply.json()
                if reply.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            detail = str(body.get("detail", "")) if isinstance(body, dict) else ""
            if reply.status == 200:
                write.outcome, write.new_version = "ok", int(body["version"])
                self.tally.saves += 1
                self.tally.submits += action == "submit"
                return write.new_version
            if reply.status == 409 and STALE_API in detail:
                write.outcome = "conflict"
                self.tally.conflicts += 1
                current = self.browser.request(
                    "api_read", "GET", f"/api/v1/reports/{report_id}/", token=self.who.token
                )
                self._expect(current, 200, "the report (API)")
                state = current.json()
                if state["status"] not in ("draft", "returned"):
                    return None
                version = int(state["version"])
                continue
            if reply.status == 403 and NOT_EDITABLE in detail:
                write.outcome, write.note = "refused", "no longer editable"
                self.tally.refusals += 1
                return None
            write.outcome, write.note = "failed", _snippet(reply.text)
            raise Abort(f"API {action} of report {report_id} answered {reply.status}: {write.note}")
        self.tally.gave_up += 1
        return None

    def api_payload(
        self, serial: int, version: int, *, whole: bool
    ) -> tuple[dict[str, Any], Cells]:
        indicators = self.plan.indicators
        if not whole:
            indicators = indicators[: max(1, len(indicators) // 2)]
        values: list[dict[str, Any]] = []
        cells: Cells = {}
        for k, ind in enumerate(indicators):
            total = serial * 100 + k
            values.append({"indicator": ind.code, "value": str(total), "comment": f"w{serial}"})
            cells[("value", ind.code, "total")] = str(total)
            cells[("comment", ind.code)] = f"w{serial}"
            for (_pk, code), share in zip(
                ind.categories, _split(total, len(ind.categories)), strict=True
            ):
                values.append({"indicator": ind.code, "cell": code, "value": str(share)})
                cells[("value", ind.code, code)] = str(share)
        payload: dict[str, Any] = {
            "version": version,
            "values": values,
            "narrative_en": f"api {serial}",
        }
        cells[("narrative", "en")] = payload["narrative_en"]
        if whole:
            payload["activities"] = [
                {
                    "activity": a.code,
                    "status": "in_progress",
                    "progress": serial % 100,
                    "comment": f"w{serial}",
                }
                for a in self.plan.activities[self.who.agency]
            ]
            for a in self.plan.activities[self.who.agency]:
                cells[("activity", a.code)] = f"in_progress|{serial % 100}|w{serial}"
        return payload, cells

    def _expect(self, reply: Reply, status: int, what: str) -> None:
        if reply.status != status:
            raise Abort(f"{what} answered {reply.status}: {_snippet(reply.text)}")


def _split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` whole shares that add up to it."""
    if parts == 0:
        return []
    share = total // parts
    return [share] * (parts - 1) + [total - share * (parts - 1)]


def _snippet(text: str, size: int = 300) -> str:
    alert = re.search(r'role="alert"[^>]*>(.*?)</div>', text, re.S)
    chosen = alert.group(1) if alert else text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", chosen)).strip()[:size]


# ---- the run ----------------------------------------------------------------------------


@dataclass
class Outcome:
    plan: Plan
    log: Log
    seconds: float  # the load window asked for
    elapsed: float  # from the start of the load until the last user finished
    baseline_elapsed: float
    sign_in_seconds: float
    errors: list[str] = field(default_factory=list)
    server_cpu: float | None = None  # CPU seconds the server used during the load
    client_cpu: float | None = None  # and this process (the simulated users)
    machine_cpu: float | None = None  # and the whole machine (the database, anything else)


def run(
    plan: Plan,
    host: str,
    port: int,
    *,
    seconds: float,
    baseline_seconds: float,
    timeout: float = 120.0,
    server_cpu: Callable[[], float | None] = lambda: None,
) -> Outcome:
    """The baseline (one user alone, sequentially), then every coordinator at once.
    ``server_cpu`` reads the server's CPU time, to say how busy it was during the load."""
    log = Log()
    errors: list[str] = []
    hard = max(2 * seconds, seconds + 60)

    def visit(session: Session, deadline: float, hard_stop: float) -> None:
        try:
            session.work(deadline, hard_stop)
        except (Abort, NoAnswer) as error:
            session.tally.error = str(error)
            with log.lock:
                errors.append(f"{session.who.username}: {error}")

    base = Session(
        plan,
        plan.baseline,
        Browser(
            host, port, user=plan.baseline.username, phase="baseline", log=log, timeout=timeout
        ),
        log,
    )
    started = time.monotonic()
    try:
        base.sign_in()
    except (Abort, NoAnswer) as error:
        errors.append(f"{plan.baseline.username}: {error}")
    else:
        now = time.monotonic()
        visit(base, now + baseline_seconds, now + baseline_seconds + hard)
    baseline_elapsed = time.monotonic() - started

    rendezvous: dict[int, threading.Barrier] = {
        p: threading.Barrier(2) for p in {c.pair for c in plan.coordinators if c.pair is not None}
    }
    sessions = [
        Session(
            plan,
            c,
            Browser(host, port, user=c.username, phase="load", log=log, timeout=timeout),
            log,
            rendezvous.get(c.pair) if c.pair is not None else None,
        )
        for c in plan.coordinators
    ]
    signed_in = threading.Barrier(len(sessions) + 1)
    go = threading.Event()
    window: dict[str, float] = {}

    def coordinator(session: Session) -> None:
        ok = True
        try:
            session.sign_in()
        except (Abort, NoAnswer) as error:
            ok = False
            session.tally.error = str(error)
            with log.lock:
                errors.append(f"{session.who.username}: {error}")
        finally:
            with contextlib.suppress(threading.BrokenBarrierError):
                signed_in.wait(timeout=600)
        if not ok:
            for barrier in rendezvous.values():
                if session.rendezvous is barrier:
                    barrier.abort()
            return
        go.wait()
        visit(session, window["deadline"], window["hard_stop"])

    threads = [threading.Thread(target=coordinator, args=(s,), daemon=True) for s in sessions]
    sign_in_started = time.monotonic()
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        signed_in.wait(timeout=600)
    sign_in_seconds = time.monotonic() - sign_in_started
    cpu_before, client_before, machine_before = server_cpu(), time.process_time(), _busy()
    start = time.monotonic()
    window.update(start=start, deadline=start + seconds, hard_stop=start + hard)
    go.set()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    cpu_after, client_after, machine_after = server_cpu(), time.process_time(), _busy()
    outcome = Outcome(plan, log, seconds, elapsed, baseline_elapsed, sign_in_seconds, errors)
    if cpu_before is not None and cpu_after is not None:
        outcome.server_cpu = cpu_after - cpu_before
    outcome.client_cpu = client_after - client_before
    if machine_before is not None and machine_after is not None:
        outcome.machine_cpu = machine_after - machine_before
    return outcome


def _busy() -> float | None:
    """CPU seconds the whole machine has been busy since boot (Linux /proc/stat), or None."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# ---- verification -----------------------------------------------------------------------


@dataclass
class Verdict:
    problems: list[str]
    reports: int
    writes_ok: int
    cells_checked: int
    conflicts: int
    refusals: int
    submitted: int

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(outcome: Outcome) -> Verdict:
    """Compare what the users were told with what the database holds."""
    from indicators.models import ActivityProgress, IndicatorValue, ProgressReport

    problems: list[str] = list(outcome.errors)
    samples = outcome.log.samples
    for kind, count in sorted(Counter(s.kind for s in samples if s.status >= 500).items()):
        problems.append(f"{count} server errors (5xx) on {kind} requests")
    for kind, count in sorted(Counter(s.kind for s in samples if s.status == 0).items()):
        problems.append(f"{count} {kind} requests without an answer")

    writes: dict[tuple[str, str, str], list[Write]] = defaultdict(list)
    for w in outcome.log.writes:
        writes[w.slot].append(w)
        if w.outcome == "failed":
            problems.append(f"{w.user} {w.via} {w.action} {w.slot}: {w.status} {w.note}")
        if w.outcome == "ok" and w.new_version is not None and w.new_version != w.base + 1:
            problems.append(
                f"{w.user} {w.action} {w.slot} from version {w.base} answered version "
                f"{w.new_version}"
            )

    reports = {
        (r.period.code, r.agency.code if r.agency else "", r.city.code if r.city else ""): r
        for r in ProgressReport.objects.filter(programme__code=PROGRAMME).select_related(
            "period", "agency", "city", "submitted_by"
        )
    }
    actual: dict[int, Cells] = defaultdict(dict)
    for v in IndicatorValue.objects.filter(report__programme__code=PROGRAMME).select_related(
        "indicator", "category__dimension"
    ):
        cell = f"{v.category.dimension.code}={v.category.code}" if v.category else "total"
        actual[v.report_id][("value", v.indicator.code, cell)] = _plain(v.value)
        if v.category is None:
            actual[v.report_id][("comment", v.indicator.code)] = v.comment
    for a in ActivityProgress.objects.filter(report__programme__code=PROGRAMME).select_related(
        "activity"
    ):
        actual[a.report_id][("activity", a.activity.code)] = (
            f"{a.status}|{a.progress if a.progress is not None else ''}|{a.comment}"
        )
    for r in reports.values():
        for lang in ("es", "en"):
            text = getattr(r, f"narrative_{lang}")
            if text:
                actual[r.pk][("narrative", lang)] = text

    cells_checked = submitted = 0
    for slot in sorted(set(writes) | set(reports)):
        attempts = writes.get(slot, [])
        acked = sorted((w for w in attempts if w.outcome == "ok"), key=lambda w: w.base)
        unknown = [w for w in attempts if w.outcome in ("unknown", "failed")]
        report = reports.get(slot)
        where = "/".join(slot)
        bases = [w.base for w in acked]
        repeated = sorted(b for b, n in Counter(bases).items() if n > 1)
        if repeated:
            problems.append(
                f"{where}: lost update: saves from the same version {repeated} were both "
                "acknowledged"
            )
        if report is None:
            if acked:
                problems.append(f"{where}: {len(acked)} acknowledged saves but no report")
            continue
        if not unknown:
            if bases != list(range(len(acked))):
                problems.append(f"{where}: acknowledged saves from versions {bases}")
            if report.version != len(acked):
                problems.append(
                    f"{where}: at version {report.version} after {len(acked)} acknowledged saves"
                )
        expected: Cells = {}
        for w in acked:
            expected.update(w.cells)
        held = actual.get(report.pk, {})
        if not unknown:
            for key in sorted(set(expected) | set(held)):
                cells_checked += 1
                if expected.get(key, "") != held.get(key, ""):
                    problems.append(
                        f"{where} {'/'.join(key)}: holds {held.get(key, '—')!r}, the last "
                        f"acknowledged save sent {expected.get(key, '—')!r}"
                    )
        submits = [w for w in acked if w.action == "submit"]
        if submits:
            submitted += 1
            who = report.submitted_by.username if report.submitted_by else None
            if report.status != ProgressReport.Status.SUBMITTED or who != submits[-1].user:
                problems.append(
                    f"{where}: submission acknowledged to {submits[-1].user}, but the report is "
                    f"{report.status} (submitted by {who})"
                )
        elif report.status != ProgressReport.Status.DRAFT and not unknown:
            problems.append(f"{where}: {report.status} with no acknowledged submission")
        for w in attempts:
            if w.outcome == "refused" and not submits:
                problems.append(f"{where}: {w.user} refused as not editable, yet nobody submitted")
    return Verdict(
        problems=problems,
        reports=len(reports),
        writes_ok=sum(w.outcome == "ok" for w in outcome.log.writes),
        cells_checked=cells_checked,
        conflicts=sum(w.outcome == "conflict" for w in outcome.log.writes),
        refusals=sum(w.outcome == "refused" for w in outcome.log.writes),
        submitted=submitted,
    )


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


# ---- the figures ------------------------------------------------------------------------


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 (inclusive method; one value is all three)."""
    if not values:
        return (float("nan"),) * 3  # type: ignore[return-value]
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], q[98]


def latencies(outcome: Outcome, phase: str, kinds: tuple[str, ...]) -> list[float]:
    return [
        s.seconds for s in outcome.log.samples if s.phase == phase and s.kind in kinds and s.status
    ]


def render(outcome: Outcome, verdict: Verdict, *, server: str) -> str:
    plan, log = outcome.plan, outcome.log
    load = [s for s in log.samples if s.phase == "load" and s.kind != "login"]
    singles = len(plan.coordinators) - 2 * plan.pairs
    lines = [
        f"Load run: {len(plan.coordinators)} coordinators ({singles} on a report of their own, "
        f"{plan.pairs} pairs sharing one; {plan.api_users} also through the API) for "
        f"{outcome.seconds:g} s",
        f"Server: {server}",
        "",
        f"{'kind':<12}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'alone p50':>11}{'alone p95':>11}{'× p50':>7}{'× p95':>7}",
    ]
    rows: list[tuple[str, tuple[str, ...]]] = [
        ("sign-in", ("login",)),
        *GROUPS.items(),
        *((f"  {k}", (k,)) for k in GROUPS["API"]),
        ("all", tuple(k for k in KINDS if k != "login")),
    ]
    for label, kinds in rows:
        under = latencies(outcome, "load", kinds)
        alone = latencies(outcome, "baseline", kinds)
        if not under:
            continue
        p50, p95, p99 = percentiles(under)
        b50, b95, _b99 = percentiles(alone)
        ratio = f"{p50 / b50:>7.1f}{p95 / b95:>7.1f}" if alone and b50 > 0 and b95 > 0 else ""
        lines.append(
            f"{label:<12}{len(under):>9}{p50 * 1000:>9.0f}{p95 * 1000:>9.0f}{p99 * 1000:>9.0f}"
            f"{max(under) * 1000:>9.0f}"
            + (f"{b50 * 1000:>11.0f}{b95 * 1000:>11.0f}" if alone else f"{'':>22}")
            + ratio
        )
    statuses = Counter(s.status for s in load)
    tallies = [log.tallies[c.username] for c in plan.coordinators]
    baseline_requests = [s for s in log.samples if s.phase == "baseline" and s.kind != "login"]
    stale = Counter(w.via for w in log.writes if w.outcome == "conflict")
    stale_page, stale_api = stale["page"], stale["api"]
    lines += [
        "",
        f"Throughput: {len(load)} requests in {outcome.elapsed:.1f} s = "
        f"{len(load) / outcome.elapsed:.1f} requests/s "
        f"(alone: {len(baseline_requests)} in {outcome.baseline_elapsed:.1f} s = "
        f"{len(baseline_requests) / max(outcome.baseline_elapsed, 1e-9):.1f}/s); "
        f"sign-in of all {len(plan.coordinators)}: {outcome.sign_in_seconds:.1f} s",
        f"Writes acknowledged: {verdict.writes_ok} (saves, submissions, reports opened through "
        f"the API); reports submitted: {verdict.submitted}; quarters per user: "
        f"{min(t.periods for t in tallies)}–{max(t.periods for t in tallies)}",
        "Answers: " + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())),
        f"Errors: 5xx {sum(n for c, n in statuses.items() if c >= 500)}, "
        f"no answer {statuses.get(0, 0)}, unexpected answers "
        f"{sum(w.outcome == 'failed' for w in log.writes)}",
        f"Conflicts: {verdict.conflicts} saves refused as stale with a 409 (page: {stale_page}, "
        f'"somebody else saved this report after you opened it"; API: {stale_api}, "changed '
        f'since you loaded it"); {verdict.refusals} refused with a 403 "can no longer be '
        f'edited" (the partner had submitted); {sum(t.gave_up for t in tallies)} changes given '
        f"up after {MAX_ATTEMPTS} refusals",
    ]
    if outcome.server_cpu is not None and outcome.client_cpu is not None:
        cores = [f"gunicorn {outcome.server_cpu / outcome.elapsed:.2f}"]
        cores.append(f"the simulated users {outcome.client_cpu / outcome.elapsed:.2f}")
        if outcome.machine_cpu is not None:
            rest = outcome.machine_cpu - outcome.server_cpu - outcome.client_cpu
            cores.insert(0, f"the whole machine {outcome.machine_cpu / outcome.elapsed:.2f}")
            cores.append(f"the rest (the database and any other work) {rest / outcome.elapsed:.2f}")
        lines.append(
            f"CPU during the load, cores busy on average of {os.cpu_count()}: " + ", ".join(cores)
        )
    lines.append(
        f"Checked: {verdict.reports} reports, {verdict.cells_checked} cells against the last "
        "acknowledged save: "
        + ("no lost update, every submission submitted" if verdict.ok else "PROBLEMS:")
    )
    for problem in verdict.problems[:30]:
        lines.append(f"  ! {problem}")
    if len(verdict.problems) > 30:
        lines.append(f"  … and {len(verdict.problems) - 30} more")
    return "\n".join(lines)


@contextlib.contextmanager
def temporary_log() -> Iterator[Path]:
    """A file for gunicorn's output, removed afterwards."""
    import tempfile

    handle, name = tempfile.mkstemp(prefix="loadtest-gunicorn-", suffix=".log")
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
