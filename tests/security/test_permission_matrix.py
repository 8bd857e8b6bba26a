"""The permission matrix (DESIGN §10, issue 8): every URL pattern of the site, the API and the
admin site (walked from the resolver, so a new one is covered, or fails for want of a policy)
× every role × each method the pattern accepts × its object variants (own and other agency,
city and programme, ids guessed across programmes), against the policy in ``matrix.py``.

One request per (pattern, method, variant, role), each in a savepoint rolled back afterwards,
so every request sees the same world. Every response body is also searched for the markers of
what the role may never read (a draft's figures for a donor, anything of another programme,
API keys and invitation tokens for anybody). All disagreements are collected and reported
together, so one run shows every hole."""

import copy
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.http import HttpResponseBase
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from indicators.models import ProgressReport
from monitoring.api.throttling import TokenRateThrottle

from .matrix import (
    A_OTHER,
    A_OWN,
    ADMIN,
    ADMIN_KINDS,
    ADMIN_SITE,
    ANON,
    C_AGENCY,
    C_CITY,
    C_OWN,
    DONOR,
    IN_CIUDADES,
    IN_SEALED,
    MARKERS,
    NOBODY,
    NOTE,
    OTHER,
    OUTSIDER,
    POLICY,
    RCO,
    RETURNED,
    RETURNED_FIGURES,
    ROLES,
    SEALED,
    STAFF,
    SUBMITTED_FIGURES,
    SUPER,
    UNSHARED,
    Rule,
    World,
    admin_expectation,
    build_world,
)

WRITES = ("POST", "PUT", "PATCH", "DELETE")
METHODS = ("GET", *WRITES)
# A variant named so is refused to everybody with a 404: the object is not where the address
# says (another programme's id under Ciudades' address, a value of another report, a token of
# another survey, an unknown key).
NOT_HERE = {"xprog", "mismatch", "unknown", "crossed"}


# ---- the URL patterns -------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the policy's key: namespaced name (+ ".format"), or the pattern
    pattern: str
    name: str | None
    admin_model: str | None = None  # "app.model" for a model's admin pages
    admin_action: str = ""

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")


ADMIN_ACTIONS = ("changelist", "add", "change", "delete", "history")


def _walk(
    resolver: URLResolver, prefix: str, namespace: str
) -> Iterator[tuple[str, str | None, str]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            view = entry.lookup_str  # the view's dotted path
            yield prefix + str(entry.pattern), name, view


def all_routes() -> list[Route]:
    models = {m._meta.label_lower: m for m in admin.site._registry}
    routes = []
    for pattern, name, view in _walk(get_resolver(), "", ""):
        fmt = "(?P<format>" in pattern or "<drf_format_suffix:format>" in pattern
        # a pattern without a name is known by its view (its regex may be rewritten)
        unnamed = pattern if pattern.startswith("admin/") else view
        key = (name + (".format" if fmt else "")) if name else unnamed
        model, action = None, ""
        found = re.match(r"admin/(\w+)/(\w+)/", pattern)
        if found and f"{found[1]}.{found[2]}" in models:
            model = f"{found[1]}.{found[2]}"
            rest = pattern[found.end() :]
            if name and name.endswith("_password_change"):
                action = "password"
            elif name:
                action = name.rsplit("_", 1)[1]
            elif rest == "<path:object_id>/":
                action = "redirect"
        routes.append(Route(key, pattern, name, model, action))
    return routes


def test_every_url_pattern_has_a_policy():
    """A new address, API endpoint or admin model fails here, by name, until the policy says
    who may use it."""
    missing = []
    for route in all_routes():
        if route.admin_model:
            if route.admin_model not in ADMIN_KINDS or route.admin_action not in (
                *ADMIN_ACTIONS,
                "password",
                "redirect",
            ):
                missing.append(f"{route.pattern} (admin of {route.admin_model})")
        elif route.is_admin:
            if route.key not in ADMIN_SITE:
                missing.append(f"{route.key}  ({route.pattern})")
        elif route.key not in POLICY:
            missing.append(f"{route.key}  ({route.pattern})")
    assert not missing, "URL patterns without an entry in tests/security/matrix.py:\n" + "\n".join(
        missing
    )


def test_the_policy_names_no_pattern_that_is_gone():
    keys = {r.key for r in all_routes()}
    stale = sorted(set(POLICY) - keys) + sorted(set(ADMIN_SITE) - keys)
    assert not stale, f"policy entries for URL patterns that no longer exist: {stale}"


# ---- the requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """One request of the matrix and who is let through."""

    route: Route
    method: str
    variant: str
    url: str
    body: Any
    json_body: bool
    allowed: frozenset[str]
    api: bool
    login: bool
    home: frozenset[str] | None  # who belongs where the object lives (None: anybody)
    only_refused: bool = False  # ask only the roles the policy refuses
    roles: tuple[str, ...] = ROLES  # who is asked


# Families whose address names no programme: a refusal may be a 403 (nothing is disclosed).
NO_PROGRAMME = {"none", "query", "token", "public", "invitation", "report_open", "task",
                "failed_job"}  # fmt: skip


def _home(family: str, variant: str) -> frozenset[str] | None:
    if variant in NOT_HERE:
        return frozenset()
    if family in NO_PROGRAMME:
        return None
    return IN_SEALED if variant in ("O", "other") else IN_CIUDADES


def _url(route: Route, kwargs: dict[str, Any], fixed: str = "") -> tuple[str, Any]:
    kwargs = dict(kwargs)
    query = kwargs.pop("?", "")
    body = kwargs.pop("~", None)
    if fixed:
        url = fixed
    elif route.name:
        if route.key.endswith(".format"):
            kwargs["format"] = "json"
        url = reverse(route.name, kwargs=kwargs)
    else:
        raise AssertionError(f"no address for {route.pattern}")
    return (f"{url}?{query}" if query else url), body


def site_asks(world: World, route: Route, rule: Rule) -> Iterator[Ask]:
    for method, (family, variants) in rule.methods.items():
        for variant, allowed in variants.items():
            url, body = _url(route, world.args(family, variant), rule.url)
            yield Ask(
                route, method, variant, url, body if body is not None else rule.body.get(method),
                rule.api, allowed, rule.api, rule.login, _home(family, variant),
                roles=(ANON, OUTSIDER) if rule.same_for_all else ROLES,
            )  # fmt: skip


def admin_asks(world: World, route: Route) -> Iterator[Ask]:
    if route.admin_model is None:
        for method, allowed in ADMIN_SITE[route.key].items():
            kwargs: dict[str, Any] = {}
            if route.key == "admin:app_list":
                kwargs = {"app_label": "monitoring"}
            elif route.key == "admin:view_on_site":
                from django.contrib.contenttypes.models import ContentType

                from monitoring.models import Programme

                ct = ContentType.objects.get_for_model(Programme)
                kwargs = {"content_type_id": ct.pk, "object_id": world.objects["ciudades"].pk}
            url = "/admin/no-such-page/" if not route.name else reverse(route.name, kwargs=kwargs)
            login = route.key not in ("admin:login", "admin:logout")
            yield Ask(route, method, "-", url, {}, False, allowed, False, login, None)
        return
    kind = ADMIN_KINDS[route.admin_model]
    action = route.admin_action
    writable = action in ("changelist", "add", "change", "delete", "password")
    methods = ("GET", "POST") if writable else ("GET",)
    if action in ("changelist", "add"):
        variants: dict[str, Any] = {"-": None}
    else:
        variants = world.args("admin", route.admin_model)
        wanted = {"shared"} if kind in ("reference", "stock") else {"C", "O"}
        assert wanted <= set(variants), f"no {wanted - set(variants)} object for {route.pattern}"
    for method in methods:
        for variant, pk in variants.items():
            if pk is None:
                url = reverse(route.name)  # type: ignore[arg-type]
            elif route.name:
                key = "id" if action == "password" else "object_id"
                url = reverse(route.name, kwargs={key: pk})
            else:
                app, model = route.admin_model.split(".")
                url = f"/admin/{app}/{model}/{pk}/"
            allowed = admin_expectation(kind, action, method, variant if pk else "C")
            home = (
                None
                if variant in ("-", "shared")
                else (IN_SEALED if variant == "O" else IN_CIUDADES)
            )
            # An admin write is asked of those it must refuse; for those it lets through, an
            # empty POST would only render the same form as the GET again.
            # A superuser's reach is the same in every programme: asked on Ciudades' objects.
            roles = tuple(r for r in ROLES if r != SUPER) if variant == "O" else ROLES
            yield Ask(route, method, variant, url, {}, False, allowed, False, True, home,
                      only_refused=method == "POST", roles=roles)  # fmt: skip


def all_asks(world: World) -> list[Ask]:
    asks: list[Ask] = []
    for route in all_routes():
        if route.is_admin:
            if route.admin_model in ADMIN_KINDS or route.key in ADMIN_SITE:
                asks += admin_asks(world, route)
        elif route.key in POLICY:
            asks += site_asks(world, route, POLICY[route.key])
    return asks


def send(client: Client, ask: Ask) -> HttpResponseBase:
    if ask.method == "GET":
        return client.get(ask.url)
    if ask.json_body:
        return client.generic(
            ask.method, ask.url, json.dumps(ask.body or {}), content_type="application/json"
        )
    if ask.method == "POST":
        return client.post(ask.url, ask.body or {})
    return client.generic(ask.method, ask.url)


def read(response: HttpResponseBase) -> bytes:
    if getattr(response, "streaming", False):
        # The test client's wrapper closes the response once read; closing it again here
        # would fire request_finished and close the database connection mid-transaction.
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        body = bytes(response.content)  # type: ignore[attr-defined]
    return body + unzipped(body)


def unzipped(body: bytes) -> bytes:
    """The parts of a Word or Excel file (a zip of XML): searched for markers too, or what a
    donor's annual report (.docx) or a workbook holds would never be looked at."""
    if not body.startswith(b"PK\x03\x04"):
        return b""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


# ---- judging one answer -------------------------------------------------------------------


def verdict(ask: Ask, role: str, response: HttpResponseBase) -> str | None:
    """None when the answer is what the policy says; otherwise what is wrong."""
    status = response.status_code
    location = response.get("Location", "") if 300 <= status < 400 else ""
    to_login = location.startswith((resolve_url(settings.LOGIN_URL), reverse("admin:login")))
    # the admin's answer to an object that is not in the user's reach
    to_admin_index = bool(ask.route.admin_model) and location == reverse("admin:index")
    if status >= 500:
        return f"server error {status}"
    if status == 405:
        return "405: the policy names a method the view does not take"
    refused = status in (401, 403, 404, 410) or (to_login and ask.login) or to_admin_index
    allowed = role in ask.allowed
    if allowed and refused:
        return f"refused ({status} {location}) but the policy lets {role} through"
    if not allowed and not refused:
        return f"let through ({status} {location}) but the policy refuses {role}"
    if not refused:
        return None
    # the refusal must be the right one
    if role == ANON and ask.login:
        if ask.api:
            return None if status == 401 else f"anonymous API refusal should be 401, got {status}"
        return None if to_login else f"anonymous should be sent to the login page, got {status}"
    if ask.route.is_admin:
        if role not in STAFF and not to_login:
            return f"non-staff should be sent to the admin login, got {status} {location}"
        return None
    if ask.home is not None and role not in ask.home and status != 404:
        return f"refused with {status}; outside the object's programme it must be 404"
    if status == 401:
        return "401 for a signed-in user"
    return None


def leaks(ask: Ask, role: str, body: bytes, secrets: list[str]) -> list[str]:
    found = []
    for marker, readers in MARKERS.items():
        if role not in readers and marker.encode() in body:
            found.append(f"body shows {marker} to {role}")
    for secret in secrets:
        if secret not in ask.url and secret.encode() in body:
            found.append(f"body shows a secret key or token ({secret[:6]}…)")
    return found


# ---- the matrix ---------------------------------------------------------------------------


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def clients(world) -> dict[str, Client]:
    out = {}
    for role in ROLES:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        user = world.users[role]
        if user is not None:
            client.force_login(user)
        out[role] = client
    return out


@pytest.fixture
def unthrottled(monkeypatch):
    """The API's rate limits are not what this test is about (several thousand requests);
    nor is sending tasks to the broker (the operations page's retries)."""
    monkeypatch.setattr(TokenRateThrottle, "allow_request", lambda self, request, view: True)
    monkeypatch.setattr("monitoring.ops_views._send", lambda *args, **kwargs: None)


def test_every_pattern_role_method_and_object_gets_what_the_policy_says(
    world, clients, unthrottled
):
    failures: list[str] = []
    asks = all_asks(world)
    assert len(asks) > 300, "the matrix walked too few addresses"
    for ask in asks:
        for role in ask.roles:
            if ask.only_refused and role in ask.allowed:
                continue
            client = clients[role]
            cookies = copy.deepcopy(client.cookies)
            problem, body = None, b""
            try:
                with transaction.atomic():
                    response = send(client, ask)
                    body = read(response)
                    problem = verdict(ask, role, response)
                    transaction.set_rollback(True)
            except Exception as error:  # reported with the others
                problem = f"raised {type(error).__name__}: {str(error)[:200]}"
            client.cookies = cookies  # a logout or a new language must not carry over
            where = f"{ask.method} {ask.url} [{ask.route.key} · {ask.variant}] as {role}"
            if problem:
                failures.append(f"{where}: {problem}")
            failures += [f"{where}: {leak}" for leak in leaks(ask, role, body, world.secrets)]
    assert not failures, f"{len(failures)} disagreements with the policy:\n" + "\n".join(failures)


def test_no_pattern_takes_a_method_the_policy_does_not_name(world, clients, unthrottled):
    """Asked by a superuser with each method the policy does not name, every view answers
    405 (so the matrix cannot miss a write the table forgot)."""
    failures = []
    for route in all_routes():
        rule = POLICY.get(route.key)
        if route.is_admin or rule is None or rule.any_method:
            continue
        family, variants = next(iter(rule.methods.values()))
        variant = next(iter(variants))
        url, _body = _url(route, world.args(family, variant), rule.url)
        for method in METHODS:
            if method in rule.methods:
                continue
            with transaction.atomic():
                response = clients[SUPER].generic(method, url)
                transaction.set_rollback(True)
            if response.status_code != 405:
                failures.append(
                    f"{method} {url} [{route.key}] answered {response.status_code}: the policy "
                    f"names no {method} for it"
                )
    assert not failures, "\n".join(failures)


def test_the_matrix_fixtures_are_what_the_policy_assumes(world):
    """Guards against the world drifting away from the policy's premises."""
    reports = world.objects["reports"]
    assert [reports[k].status for k in ("draft", "submitted", "approved")] == [
        "draft",
        "submitted",
        "approved",
    ]
    assert world.users[OTHER] is not None and world.users[OTHER].is_staff
    assert world.users[SUPER] is not None and world.users[SUPER].is_superuser
    assert not NOBODY


def test_the_knowledge_and_governance_records_are_what_the_policy_assumes(world):
    o = world.objects
    recs = o["recommendations"]
    assert {k: (r.shareable, r.evaluation.shareable) for k, r in recs.items()} == {
        "shared": (True, True),
        "unshared": (False, True),
        "unanswered": (True, True),
        "rejected": (True, True),
        "in_unshared": (True, False),
    }
    responses = {k: getattr(r, "response", None) for k, r in recs.items()}
    assert {k: r.decision if r else None for k, r in responses.items()} == {
        "shared": "accepted",
        "unshared": "accepted",
        "unanswered": None,
        "rejected": "rejected",
        "in_unshared": None,
    }
    assert [a.code for a in recs["shared"].addressee_agencies.all()] == ["ILO"]
    assert [a.code for a in recs["unshared"].addressee_agencies.all()] == ["IOM"]
    for actions in (o["response_actions"], o["meeting_actions"]):
        owners = {k: (a.owner_agency.code, a.owner) for k, a in actions.items()}
        assert owners == {
            "ilo": ("ILO", None),
            "iom": ("IOM", world.users[C_CITY]),
            "unshared": ("ILO", None),
        }
        assert all(NOTE in a.progress_note for a in actions.values())
    meetings = o["meetings"]
    assert {k: (m.shareable, m.committee.shareable) for k, m in meetings.items()} == {
        "shared": (True, True),
        "unshared": (False, True),
        "in_unshared": (True, False),
    }
    assert o["risks"]["shared"].owner_agency.code == "ILO"
    assert o["risks"]["unshared"].owner_agency is None  # the whole programme's
    assert not o["risks"]["unshared"].shareable and o["risks"]["shared"].shareable


# Pages where what donors may never read is shown to the programme's other people: the
# matrix's search of a donor's body for the markers is not vacuous.
SHOWN_TO_MEMBERS = [
    ("knowledge:evaluations", "programme", "C", {UNSHARED}),
    ("knowledge:evaluation", "evaluation", "shared", {UNSHARED}),
    ("knowledge:recommendation", "recommendation", "shared", {NOTE}),
    ("knowledge:tracking", "programme", "C", {UNSHARED, NOTE}),
    ("knowledge:lessons", "programme", "C", {UNSHARED}),
    ("governance:committees", "programme", "C", {UNSHARED}),
    ("governance:committee", "committee", "shared", {UNSHARED}),
    ("governance:meeting", "meeting", "shared", {NOTE}),
    ("governance:risks", "programme", "C", {UNSHARED}),
    ("governance:heatmap", "programme", "C", {UNSHARED}),
    ("governance:risk", "risk", "shared", {NOTE}),
    ("governance:follow_up", "programme", "C", {UNSHARED}),
]


def test_donors_get_the_pages_that_show_others_what_is_not_shared_without_it(world, clients):
    failures = []
    for name, family, variant, markers in SHOWN_TO_MEMBERS:
        url = reverse(name, kwargs=world.args(family, variant))
        member, donor = clients[C_AGENCY].get(url), clients[DONOR].get(url)
        assert (member.status_code, donor.status_code) == (200, 200), url
        for marker in markers:
            if marker not in member.content.decode():
                failures.append(f"{url}: {marker} is not on the page for {C_AGENCY}")
            if marker in donor.content.decode():
                failures.append(f"{url}: {marker} is on the page for the donor")
    assert not failures, "\n".join(failures)


def test_the_annual_report_a_donor_downloads_is_searched_and_has_shared_risks_only(
    world, clients, unthrottled
):
    """The fund's report (.docx) lists the risks: the matrix reads inside the file."""
    url = reverse("api:export-mptf") + "?programme=CIUDADES"
    body = read(clients[DONOR].get(url))
    assert body.startswith(b"PK")  # a zip: its parts are compressed, read() unzips them
    assert b"shared risk" in body  # the shareable risk's title
    assert UNSHARED.encode() not in body


# ---- holes the matrix found, each pinned by a test of its own ------------------------------


def test_opening_a_report_in_a_programme_one_cannot_see_is_a_404(client, world):
    """It was a 400 ("No programme … that you may see" on the programme field): a refusal must
    read as one (403/404), like every other address of a programme one is not in."""
    client.force_login(world.users[DONOR])
    body = {"programme": "SEALED", "period": "S-Q2", "agency": "SEALAG", "city": "SEAL-C"}
    response = client.post(reverse("api:reports"), body, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "No programme SEALED that you may see." in response.json()["detail"]
    assert not ProgressReport.objects.filter(programme__code="SEALED", period__code="S-Q2")


@pytest.mark.parametrize(
    "page",
    ["monitoring/outcome/", "monitoring/output/", "indicators/progressreport/", "surveys/survey/",
     "budgets/budgetline/", "indicators/target/"],
)  # fmt: skip
def test_the_admins_list_filters_name_no_other_programmes_objects(client, world, page):
    """The stock filters by programme (outcome, survey…) listed every programme's: a programme
    admin read the names of programmes they have nothing to do with."""
    client.force_login(world.users[ADMIN])
    response = client.get(f"/admin/{page}")
    assert response.status_code == 200
    assert SEALED not in response.content.decode()
    client.force_login(world.users[SUPER])
    assert SEALED in client.get(f"/admin/{page}").content.decode()


@pytest.mark.parametrize("role", [DONOR, C_AGENCY, A_OTHER])
def test_an_approved_reports_page_shows_no_unapproved_figure_to_outsiders_of_its_workflow(
    client, world, role
):
    """The ILO Santiago report of 2022-Q4 is approved; the quarter before it is only
    submitted, and it was itself returned once before approval. A donor, or another agency's
    people, reading it saw last quarter's submitted figure in the "last quarter" column and,
    in its history, the figure first submitted and why it was returned."""
    client.force_login(world.users[role])
    response = client.get(reverse("reports:report", kwargs=world.args("slot", "approved")))
    html = response.content.decode()
    assert response.status_code == 200
    assert "12" in html  # the approved figure is there
    for unseen in (*SUBMITTED_FIGURES, *RETURNED_FIGURES, RETURNED):
        assert unseen not in html, unseen
    assert "audit-reportapprove" in html  # the approval itself stays in its history


@pytest.mark.parametrize("role", [C_OWN, A_OWN, RCO])
def test_the_agency_and_the_rco_still_follow_the_whole_workflow(client, world, role):
    client.force_login(world.users[role])
    html = client.get(reverse("reports:report", kwargs=world.args("slot", "approved")))
    html = html.content.decode()
    assert RETURNED in html and RETURNED_FIGURES[0] in html
    assert SUBMITTED_FIGURES[0] in html or SUBMITTED_FIGURES[1] in html  # last quarter's
