"""The engine's SQL: set-based, portable between PostgreSQL and the embedded SQLite, built from
constants and integer ids only. Nothing loops over values in Python.

A rollup row is one figure of one indicator for one scope (programme, city, agency, city ×
agency) and cell, as of one period P with approved data. It carries three spans:
- ``period``: P's own figure;
- ``ytd``: the reporting year containing P, to P;
- ``ltd``: the life of the programme, to P.

Order of aggregation (DESIGN §3.1):
1. Time. For indicators that add up over time (``sum``), each scope's period figures are
   summed cumulatively. For the others (``latest``, ``max``, ``mean``) time is applied per
   series (indicator × city × agency × cell) first, carrying each series' last state forward,
   so a city that did not report this quarter still counts with its latest figure.
2. Agencies, per city: the RCO's joint (consolidated) figure where there is one, else the
   agencies combined (sum — flagged "gross" when the indicator asks for a consolidated total;
   weighted Σnum/Σden for percentages when every part has them, else an unweighted mean,
   flagged; any for yes/no).
3. Cities, for an agency and for the programme: the place rule. A figure reported for the
   programme as a whole takes precedence for the programme.
4. Targets (explicit, else the sum of finer targets where figures add up), baselines,
   expected-by-now, achievement and status.

City, agency and cell are carried as 0 (not NULL) inside the engine so joins can hash.
"""

from dataclasses import dataclass

KIND_RANK = "CASE {p}.kind WHEN 'quarter' THEN 1 WHEN 'year' THEN 2 ELSE 3 END"
APPROVED = "('approved', 'validated')"
ADDITIVE = "('count', 'amount', 'level')"
SERIES = "ind, city, agency, cat"
SPANS = ("p", "y", "l")  # period, year to date, life to date
NULL_REAL = "CAST(NULL AS NUMERIC)"
# Scopes as stored (Rollup.Scope): 1 city × agency, 2 city, 3 agency, 4 programme.


@dataclass(frozen=True)
class Dialect:
    """The few expressions that differ between PostgreSQL and SQLite."""

    vendor: str
    # A full run plans with hash joins throughout (see recompute); statistics on its
    # working tables would cost more to gather than they improve those plans.
    full: bool = False

    def days(self, a: str, b: str) -> str:
        """Days from date ``b`` to date ``a``, as a number."""
        if self.vendor == "postgresql":
            return f"(({a})::date - ({b})::date)"
        return f"(julianday({a}) - julianday({b}))"

    def year_start(self, d: str) -> str:
        if self.vendor == "postgresql":
            return f"date_trunc('year', {d})::date"
        return f"date({d}, 'start of year')"

    def real(self, x: str) -> str:
        """Engine figures stay decimal on PostgreSQL: converting floats back to the rollup's
        decimals costs more than float arithmetic saves. SQLite has no decimal type."""
        return x

    def temp_table(self, name: str, select: str) -> str:
        return f"CREATE TEMP TABLE {name} AS {select}"

    def analyze(self, name: str) -> list[str]:
        return [f"ANALYZE {name}"] if self.vendor == "postgresql" and not self.full else []

    def index(self, table: str, columns: str) -> list[str]:
        """An index for lookups SQLite would otherwise do by scanning (PostgreSQL hashes)."""
        if self.vendor == "postgresql":
            return []
        return [f"CREATE INDEX {table}_i ON {table} ({columns})"]


TEMP_TABLES = (
    "eng_ind", "eng_leaf", "eng_mixed", "eng_pt", "eng_sum_joint", "eng_sleaf", "eng_direct",
    "eng_grid", "eng_state", "eng_city_sum", "eng_city_state", "eng_tgt", "eng_tgt_pt", "eng_base",
)  # fmt: skip


TEMP_VIEWS = ("eng_sum",)


def drop_temp_tables() -> list[str]:
    return [
        *(f"DROP VIEW IF EXISTS {v}" for v in TEMP_VIEWS),
        *(f"DROP TABLE IF EXISTS {t}" for t in TEMP_TABLES),
    ]


def indicator_set(d: Dialect, indicator_ids: list[int] | None) -> list[str]:
    where = (
        ""
        if indicator_ids is None
        else ("AND i.id IN (" + ",".join(str(int(x)) for x in indicator_ids) + ")")
    )
    return [
        d.temp_table(
            "eng_ind",
            f"""
            SELECT i.id AS ind, i.programme_id AS prog, i.measure AS measure,
                   i.time_rule AS time_rule, i.place_rule AS place_rule,
                   i.agency_rule AS agency_rule, i.direction AS direction,
                   i.target_kind AS target_kind,
                   pr.start_date AS prog_start, pr.end_date AS prog_end,
                   pr.on_track_threshold AS t_on, pr.at_risk_threshold AS t_risk
            FROM indicators_indicator i
            JOIN monitoring_programme pr ON pr.id = i.programme_id
            WHERE i.measure <> 'text' {where}
            """,
        ),
        "CREATE INDEX eng_ind_i ON eng_ind (ind)",
        *d.analyze("eng_ind"),
    ]


def leaves(d: Dialect) -> list[str]:
    """Approved values. Where an indicator mixes kinds of period (quarters and a reporting
    year, say), each series keeps only its finest kind, so nothing is counted twice."""
    rank = KIND_RANK.format(p="p")
    return [
        d.temp_table(
            "eng_leaf",
            f"""
            SELECT v.indicator_id AS ind, COALESCE(r.city_id, 0) AS city,
                   COALESCE(r.agency_id, 0) AS agency, COALESCE(v.category_id, 0) AS cat,
                   r.period_id AS pt, p.start_date AS pstart, p.end_date AS pend,
                   {rank} AS krank, {d.real("v.value")} AS val, {d.real("v.numerator")} AS num,
                   {d.real("v.denominator")} AS den,
                   CASE WHEN e.time_rule = 'sum' THEN 1 ELSE 0 END AS summed
            FROM indicators_indicatorvalue v
            JOIN eng_ind e ON e.ind = v.indicator_id
            JOIN indicators_progressreport r ON r.id = v.report_id
            JOIN monitoring_reportingperiod p ON p.id = r.period_id
            WHERE r.status IN {APPROVED} AND v.value IS NOT NULL
            """,
        ),
        # As-of points: each period with data, with the reporting year that contains it
        # (a programme period of kind 'year', else the calendar year).
        d.temp_table(
            "eng_pt",
            f"""
            SELECT t.*,
                   CASE WHEN {d.days("t.pend", "t.prog_start")} < 0 THEN 0.0
                        WHEN {d.days("t.pend", "t.prog_end")} >= 0 THEN 1.0
                        ELSE ({d.days("t.pend", "t.prog_start")} + 1) * 1.0
                             / ({d.days("t.prog_end", "t.prog_start")} + 1) END AS prog_elapsed,
                   CASE WHEN t.yend IS NULL THEN 1.0
                        ELSE ({d.days("t.pend", "t.ystart")} + 1) * 1.0
                             / ({d.days("t.yend", "t.ystart")} + 1) END AS year_elapsed
            FROM (
              SELECT t.ind, t.pt, t.pstart, t.pend, t.krank, COALESCE(y.id, 0) AS ypt,
                     COALESCE(y.start_date, {d.year_start("t.pend")}) AS ystart, y.end_date AS yend,
                     e.prog_start, e.prog_end
              FROM (SELECT DISTINCT ind, pt, pstart, pend, krank FROM eng_leaf) t
              JOIN eng_ind e ON e.ind = t.ind
              LEFT JOIN monitoring_reportingperiod y
                ON y.programme_id = e.prog AND y.kind = 'year'
               AND y.start_date <= t.pend AND y.end_date >= t.pend
            ) t
            """,
        ),
        "CREATE INDEX eng_pt_i ON eng_pt (ind, pt)",
        d.temp_table(
            "eng_mixed",
            "SELECT ind FROM eng_pt GROUP BY ind HAVING MIN(krank) < MAX(krank)",
        ),
        # Only indicators that mix kinds are touched: the finest kind per series is kept.
        f"""DELETE FROM eng_leaf WHERE ({SERIES}, krank) IN (
              SELECT l.ind, l.city, l.agency, l.cat, l.krank
              FROM eng_leaf l
              JOIN (SELECT {SERIES}, MIN(krank) AS finest FROM eng_leaf
                    WHERE ind IN (SELECT ind FROM eng_mixed) GROUP BY {SERIES}) f
                ON f.ind = l.ind AND f.city = l.city AND f.agency = l.agency AND f.cat = l.cat
              WHERE l.krank > f.finest)""",
        *d.analyze("eng_pt"),
    ]


def _grid_points(summed_rule: str) -> str:
    """Series (of non-summed indicators whose time rule matches) × as-of points from their
    first value on, with the value at each point if there is one."""
    return f"""
        SELECT s.ind, s.city, s.agency, s.cat, t.pt, t.pend, t.ystart,
               l.val, l.num, l.den, l.pstart AS vstart
        FROM (SELECT l.ind, l.city, l.agency, l.cat, MIN(l.pend) AS first_end
              FROM eng_sleaf l JOIN eng_ind e ON e.ind = l.ind
              WHERE {summed_rule}
              GROUP BY l.ind, l.city, l.agency, l.cat) s
        JOIN eng_pt t ON t.ind = s.ind AND t.pend >= s.first_end
        LEFT JOIN eng_sleaf l ON l.ind = s.ind AND l.city = s.city
             AND l.agency = s.agency AND l.cat = s.cat AND l.pt = t.pt
    """


def grid(d: Dialect) -> list[str]:
    """For indicators that do not add up over time: each series at every as-of point from its
    first value on, with its value at that point (if any) and its figure to date by the time
    rule, carrying the last state forward. 'latest' needs only the carried value; 'max' and
    'mean' need running aggregates too (computed only for them)."""
    frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    # Ordering the life-to-date window by (ystart, pend) — the same order as by pend, since
    # years follow each other — lets it share one sort with the year-to-date window.
    w = f"PARTITION BY {SERIES} ORDER BY ystart, pend {frame}"
    wy = f"PARTITION BY {SERIES}, ystart ORDER BY pend {frame}"
    wl = f"PARTITION BY {SERIES}, grp ORDER BY pend"
    yv = "CASE WHEN vstart >= ystart THEN {c} END"
    carried = """FIRST_VALUE(val) OVER wl AS last_val, FIRST_VALUE(num) OVER wl AS last_num,
                 FIRST_VALUE(den) OVER wl AS last_den, FIRST_VALUE(vstart) OVER wl AS last_start"""
    nothing = ", ".join(
        f"{NULL_REAL} AS {c}"
        for c in (
            "l_max",
            "l_avg",
            "l_num",
            "l_den",
            "l_cden",
            "y_max",
            "y_avg",
            "y_cnt",
            "y_num",
            "y_den",
            "y_cden",
        )
    )
    return [
        d.temp_table(
            "eng_grid",
            f"""
            SELECT x.*, {carried}
            FROM (SELECT g.*, COUNT(val) OVER w AS grp, COUNT(val) OVER w AS l_cnt, {nothing}
                  FROM ({_grid_points("e.time_rule = 'latest'")}) g
                  WINDOW w AS ({w})) x
            WINDOW wl AS ({wl})
            """,
        ),
        f"""INSERT INTO eng_grid
            SELECT x.*, {carried}
            FROM (
              SELECT g.*,
                     COUNT(val) OVER w AS grp, COUNT(val) OVER w AS l_cnt,
                     MAX(val) OVER w AS l_max, AVG(val) OVER w AS l_avg,
                     SUM(num) OVER w AS l_num, SUM(den) OVER w AS l_den, COUNT(den) OVER w AS l_cden,
                     MAX({yv.format(c="val")}) OVER wy AS y_max, AVG({yv.format(c="val")}) OVER wy AS y_avg,
                     COUNT({yv.format(c="val")}) OVER wy AS y_cnt, SUM({yv.format(c="num")}) OVER wy AS y_num,
                     SUM({yv.format(c="den")}) OVER wy AS y_den, COUNT({yv.format(c="den")}) OVER wy AS y_cden
              FROM ({_grid_points("e.time_rule <> 'latest'")}) g
              WINDOW w AS ({w}), wy AS ({wy})
            ) x
            WINDOW wl AS ({wl})""",
    ]


def _over_time(e: str, span: str) -> str:
    """A series' figure over a span (``l`` or ``y``) for indicators that do not add up over
    time: value, numerator, denominator, count."""
    last_ok = "1 = 1" if span == "l" else "g.last_start >= g.ystart"
    weighted = f"(e.measure = 'percent' AND g.{span}_cden = g.{span}_cnt AND g.{span}_den > 0)"
    return f"""
      CASE {e}.time_rule
        WHEN 'max' THEN g.{span}_max
        WHEN 'mean' THEN CASE WHEN {weighted} THEN g.{span}_num * 100.0 / g.{span}_den ELSE g.{span}_avg END
        ELSE CASE WHEN {last_ok} THEN g.last_val END END AS {span}_val,
      CASE {e}.time_rule WHEN 'latest' THEN CASE WHEN {last_ok} THEN g.last_num END
        WHEN 'mean' THEN CASE WHEN {weighted} THEN g.{span}_num END END AS {span}_num,
      CASE {e}.time_rule WHEN 'latest' THEN CASE WHEN {last_ok} THEN g.last_den END
        WHEN 'mean' THEN CASE WHEN {weighted} THEN g.{span}_den END END AS {span}_den,
      g.{span}_cnt AS {span}_n"""


def state_sources(d: Dialect) -> list[str]:
    """Grid rows of indicators that do not add up over time, with their figure in the period,
    in the year to date and to date."""
    return [
        d.temp_table(
            "eng_state",
            f"""
            SELECT g.ind, g.city, g.agency, g.cat, g.pt,
                   g.val AS p_val, g.num AS p_num, g.den AS p_den,
                   CASE WHEN g.val IS NULL THEN 0 ELSE 1 END AS p_n,
                   {_over_time("e", "y")}, {_over_time("e", "l")}
            FROM eng_grid g JOIN eng_ind e ON e.ind = g.ind
            """,
        ),
        *d.index("eng_state", f"{SERIES}, pt"),
        *d.analyze("eng_state"),
    ]


PATHS = {
    # path: (agencies' rows, joint (consolidated) rows, spans they carry, the city table)
    "sum": ("eng_sum", "eng_sum_joint", ("p",), "eng_city_sum"),
    "state": ("eng_state", "eng_state", SPANS, "eng_city_state"),
}


def split_leaves(d: Dialect) -> list[str]:
    """Split the approved values by path: summed indicators' agency rows (most of them, so
    a view on the leaves rather than a copy), their joint rows, and the other indicators'
    rows (copies, small)."""
    sum_cols = "ind, city, agency, cat, pt, val AS p_val, num AS p_num, den AS p_den, 1 AS p_n"
    return [
        f"CREATE TEMP VIEW eng_sum AS SELECT {sum_cols} FROM eng_leaf "
        "WHERE summed = 1 AND agency <> 0",
        d.temp_table(
            "eng_sum_joint", f"SELECT {sum_cols} FROM eng_leaf WHERE summed = 1 AND agency = 0"
        ),
        d.temp_table("eng_sleaf", "SELECT * FROM eng_leaf WHERE summed = 0"),
        # Summed indicators whose cells can go straight from agencies to the programme (sums
        # of sums, no consolidated figures): their cities' cells need not be computed.
        d.temp_table(
            "eng_direct",
            """SELECT e.ind FROM eng_ind e
               WHERE e.time_rule = 'sum' AND e.measure IN ('count', 'amount')
                 AND e.place_rule = 'sum'
                 AND e.ind NOT IN (SELECT ind FROM eng_sum_joint)""",
        ),
        "CREATE INDEX eng_direct_i ON eng_direct (ind)",
        *d.index("eng_sleaf", f"{SERIES}, pt"),
        *d.index("eng_sum_joint", f"{SERIES}, pt"),
        *d.analyze("eng_leaf"),
        *d.analyze("eng_sum_joint"),
        *d.analyze("eng_sleaf"),
    ]


def _agencies(span: str) -> str:
    """Per city: the joint (consolidated) figure, else the agencies combined."""
    v, n, de, c = f"s.{span}_val", f"s.{span}_num", f"s.{span}_den", f"s.{span}_n"
    joint, parts = "s.agency = 0", "s.agency <> 0"
    has_joint = f"COUNT({v}) FILTER (WHERE {joint}) > 0"
    weighted = (
        f"(COUNT({de}) FILTER (WHERE {parts}) = COUNT({v}) FILTER (WHERE {parts}) "
        f"AND SUM({de}) FILTER (WHERE {parts}) > 0)"
    )
    return f"""
      CASE WHEN {has_joint} THEN MAX({v}) FILTER (WHERE {joint})
        WHEN e.measure = 'yes_no' THEN MAX({v}) FILTER (WHERE {parts})
        WHEN e.measure = 'percent' AND {weighted}
          THEN SUM({n}) FILTER (WHERE {parts}) * 100.0 / SUM({de}) FILTER (WHERE {parts})
        WHEN e.measure = 'percent' THEN AVG({v}) FILTER (WHERE {parts})
        ELSE SUM({v}) FILTER (WHERE {parts}) END AS {span}_val,
      CASE WHEN {has_joint} THEN MAX({n}) FILTER (WHERE {joint})
        WHEN e.measure = 'percent' AND {weighted} THEN SUM({n}) FILTER (WHERE {parts}) END AS {span}_num,
      CASE WHEN {has_joint} THEN MAX({de}) FILTER (WHERE {joint})
        WHEN e.measure = 'percent' AND {weighted} THEN SUM({de}) FILTER (WHERE {parts}) END AS {span}_den,
      CASE WHEN {has_joint} THEN MAX({c}) FILTER (WHERE {joint})
        ELSE SUM({c}) FILTER (WHERE {parts}) END AS {span}_n,
      CASE WHEN {has_joint} THEN 'consolidated'
        WHEN e.measure = 'yes_no' THEN 'any'
        WHEN e.measure = 'percent' AND {weighted} THEN 'weighted'
        WHEN e.measure = 'percent' THEN 'unweighted'
        WHEN e.agency_rule = 'consolidated' THEN 'gross'
        ELSE 'sum' END AS {span}_method"""


def _places(span: str, src: str) -> str:
    """Cities combined by the place rule (for an agency, or for the programme)."""
    v, n, de, c = f"{src}.{span}_val", f"{src}.{span}_num", f"{src}.{span}_den", f"{src}.{span}_n"
    weighted = f"(COUNT({de}) = COUNT({v}) AND SUM({de}) > 0)"
    return f"""
      CASE
        WHEN e.measure = 'yes_no' AND e.place_rule = 'all' THEN MIN({v})
        WHEN e.measure = 'yes_no' THEN MAX({v})
        WHEN e.measure = 'percent' AND {weighted} THEN SUM({n}) * 100.0 / SUM({de})
        WHEN e.measure = 'percent' OR e.place_rule = 'mean' THEN AVG({v})
        ELSE SUM({v}) END AS {span}_val,
      CASE WHEN e.measure = 'percent' AND {weighted} THEN SUM({n}) END AS {span}_num,
      CASE WHEN e.measure = 'percent' AND {weighted} THEN SUM({de}) END AS {span}_den,
      SUM({c}) AS {span}_n,
      CASE
        WHEN e.measure = 'yes_no' AND e.place_rule = 'all' THEN 'all'
        WHEN e.measure = 'yes_no' THEN 'any'
        WHEN e.measure = 'percent' AND {weighted} THEN 'weighted'
        WHEN e.measure = 'percent' THEN 'unweighted'
        WHEN e.place_rule = 'mean' THEN 'mean'
        ELSE 'sum' END AS {span}_method"""


def _cols(spans: tuple[str, ...], prefix: str, *, method: str | None = None) -> str:
    """The span columns of one scope branch, in a fixed order: val, num, den, n, method."""
    out = []
    for sp in spans:
        out += [f"{prefix}{sp}_{c}" for c in ("val", "num", "den", "n")]
        out.append(f"'{method}' AS {sp}_method" if method else f"{prefix}{sp}_method")
    return ", ".join(out)


def cities(d: Dialect) -> list[str]:
    """Per path, each city's figures: the consolidated figure, else agencies combined.

    Sums: a consolidated figure replaces the agencies' for its period. States: each span
    falls back to the agencies where the consolidated series has no figure for it."""
    sum_parts, sum_joint, _, sum_table = PATHS["sum"]
    state_source, _, state_spans, state_table = PATHS["state"]
    return [
        d.temp_table(
            sum_table,
            f"""
            SELECT s.ind, s.city, s.cat, s.pt, {_cols(("p",), "s.", method="consolidated")}
            FROM {sum_joint} s WHERE s.city <> 0
            UNION ALL
            SELECT a.ind, a.city, a.cat, a.pt,
              CASE WHEN e.measure = 'yes_no' THEN a.mx
                WHEN e.measure = 'percent' AND a.cd = a.cv AND a.sd > 0 THEN a.sn * 100.0 / a.sd
                WHEN e.measure = 'percent' THEN a.av
                ELSE a.sm END AS p_val,
              CASE WHEN e.measure = 'percent' AND a.cd = a.cv AND a.sd > 0 THEN a.sn END AS p_num,
              CASE WHEN e.measure = 'percent' AND a.cd = a.cv AND a.sd > 0 THEN a.sd END AS p_den,
              a.nn AS p_n,
              CASE WHEN e.measure = 'yes_no' THEN 'any'
                WHEN e.measure = 'percent' AND a.cd = a.cv AND a.sd > 0 THEN 'weighted'
                WHEN e.measure = 'percent' THEN 'unweighted'
                WHEN e.agency_rule = 'consolidated' THEN 'gross'
                ELSE 'sum' END AS p_method
            FROM (
              SELECT s.ind, s.city, s.cat, s.pt, SUM(s.p_val) AS sm, MAX(s.p_val) AS mx,
                     AVG(s.p_val) AS av, SUM(s.p_num) AS sn, SUM(s.p_den) AS sd,
                     COUNT(s.p_den) AS cd, COUNT(s.p_val) AS cv, SUM(s.p_n) AS nn
              FROM {sum_parts} s
              WHERE s.city <> 0
                AND (s.cat = 0 OR s.ind NOT IN (SELECT ind FROM eng_direct))
                AND NOT EXISTS (
                  SELECT 1 FROM {sum_joint} j WHERE j.ind = s.ind AND j.city = s.city
                  AND j.cat = s.cat AND j.pt = s.pt)
              GROUP BY s.ind, s.city, s.cat, s.pt
            ) a JOIN eng_ind e ON e.ind = a.ind
            """,
        ),
        *d.analyze(sum_table),
        d.temp_table(
            state_table,
            f"""
            SELECT s.ind, s.city, s.cat, s.pt, {", ".join(_agencies(sp) for sp in state_spans)}
            FROM {state_source} s JOIN eng_ind e ON e.ind = s.ind
            WHERE s.city <> 0
            GROUP BY s.ind, s.city, s.cat, s.pt, e.measure, e.agency_rule
            """,
        ),
        *d.analyze(state_table),
    ]


def scope_rows(path: str) -> str:
    """Every scope's rows of one path: city × agency (the series), city, agency, programme."""
    parts, joint, spans, city = PATHS[path]
    places = ", ".join(_places(sp, "s") for sp in spans)
    direct = (
        ""
        if path != "sum"
        else f"""
        UNION ALL
        SELECT s.ind, 4, 0, 0, s.cat, s.pt,
               SUM(s.p_val), {NULL_REAL}, {NULL_REAL}, SUM(s.p_n), 'sum'
        FROM {parts} s
        WHERE s.cat <> 0 AND s.ind IN (SELECT ind FROM eng_direct)
        GROUP BY s.ind, s.cat, s.pt"""  # counts and amounts summed: the place rule's one case
    )
    city_places = ", ".join(_places(sp, "c") for sp in spans)
    return f"""
        SELECT s.ind, 1 AS scope, s.city, s.agency, s.cat, s.pt,
               {_cols(spans, "s.", method="value")}
        FROM {parts} s WHERE s.city <> 0 AND s.agency <> 0 AND s.cat = 0
        UNION ALL
        SELECT c.ind, 2, c.city, 0, c.cat, c.pt, {_cols(spans, "c.")}
        FROM {city} c WHERE c.cat = 0
        UNION ALL
        SELECT s.ind, 3, 0, s.agency, 0, s.pt, {places}
        FROM {parts} s JOIN eng_ind e ON e.ind = s.ind
        WHERE s.city <> 0 AND s.agency <> 0 AND s.cat = 0 AND e.place_rule <> 'none'
        GROUP BY s.ind, s.agency, s.pt, e.measure, e.place_rule
        UNION ALL
        SELECT s.ind, 4, 0, 0, s.cat, s.pt, {_cols(spans, "s.", method="reported")}
        FROM {joint} s WHERE s.city = 0 AND s.agency = 0
        UNION ALL
        SELECT c.ind, 4, 0, 0, c.cat, c.pt, {city_places}
        FROM {city} c JOIN eng_ind e ON e.ind = c.ind
        WHERE e.place_rule <> 'none' AND NOT EXISTS (
            SELECT 1 FROM {joint} r WHERE r.ind = c.ind AND r.city = 0 AND r.agency = 0
            AND r.cat = c.cat AND r.pt = c.pt)
        GROUP BY c.ind, c.cat, c.pt, e.measure, e.place_rule
        {direct}
    """


def targets_and_baselines(d: Dialect) -> list[str]:
    """Targets per scope key (explicit; else the sum of finer targets where figures add up)
    and baselines per scope (explicit; else the sum of city baselines for summed indicators)."""
    cols = "ind, city, agency, tperiod, cat, value"
    return [
        d.temp_table(
            "eng_tgt",
            f"""
            SELECT t.indicator_id AS ind, COALESCE(t.city_id, 0) AS city,
                   COALESCE(t.agency_id, 0) AS agency, COALESCE(t.period_id, 0) AS tperiod,
                   COALESCE(t.category_id, 0) AS cat, {d.real("t.value")} AS value
            FROM indicators_target t JOIN eng_ind e ON e.ind = t.indicator_id
            """,
        ),
        f"""INSERT INTO eng_tgt ({cols})
            SELECT t.ind, t.city, 0, t.tperiod, t.cat, SUM(t.value)
            FROM eng_tgt t JOIN eng_ind e ON e.ind = t.ind
            WHERE t.city <> 0 AND t.agency <> 0 AND e.measure IN {ADDITIVE}
              AND NOT EXISTS (SELECT 1 FROM eng_tgt x WHERE x.ind = t.ind AND x.city = t.city
                  AND x.agency = 0 AND x.tperiod = t.tperiod AND x.cat = t.cat)
            GROUP BY t.ind, t.city, t.tperiod, t.cat""",
        f"""INSERT INTO eng_tgt ({cols})
            SELECT t.ind, 0, t.agency, t.tperiod, t.cat, SUM(t.value)
            FROM eng_tgt t JOIN eng_ind e ON e.ind = t.ind
            WHERE t.city <> 0 AND t.agency <> 0 AND e.measure IN {ADDITIVE}
              AND e.place_rule = 'sum'
              AND NOT EXISTS (SELECT 1 FROM eng_tgt x WHERE x.ind = t.ind AND x.city = 0
                  AND x.agency = t.agency AND x.tperiod = t.tperiod AND x.cat = t.cat)
            GROUP BY t.ind, t.agency, t.tperiod, t.cat""",
        f"""INSERT INTO eng_tgt ({cols})
            SELECT t.ind, 0, 0, t.tperiod, t.cat, SUM(t.value)
            FROM eng_tgt t JOIN eng_ind e ON e.ind = t.ind
            WHERE t.city <> 0 AND t.agency = 0 AND e.measure IN {ADDITIVE}
              AND e.place_rule = 'sum'
              AND NOT EXISTS (SELECT 1 FROM eng_tgt x WHERE x.ind = t.ind AND x.city = 0
                  AND x.agency = 0 AND x.tperiod = t.tperiod AND x.cat = t.cat)
            GROUP BY t.ind, t.tperiod, t.cat""",
        "CREATE INDEX eng_tgt_i ON eng_tgt (ind, city, agency, tperiod, cat)",
        *d.analyze("eng_tgt"),
        # The life, year and period targets of each target key in each period of its
        # indicator: one join for the rollup rows instead of three.
        d.temp_table(
            "eng_tgt_pt",
            """
            SELECT k.ind, k.city, k.agency, k.cat, t.pt, tl.value AS l_target,
                   ty.value AS y_target, tp.value AS p_target
            FROM (SELECT DISTINCT ind, city, agency, cat FROM eng_tgt) k
            JOIN eng_pt t ON t.ind = k.ind
            LEFT JOIN eng_tgt tl ON tl.ind = k.ind AND tl.city = k.city
                 AND tl.agency = k.agency AND tl.cat = k.cat AND tl.tperiod = 0
            LEFT JOIN eng_tgt ty ON ty.ind = k.ind AND ty.city = k.city
                 AND ty.agency = k.agency AND ty.cat = k.cat AND ty.tperiod = t.ypt
                 AND t.ypt <> 0
            LEFT JOIN eng_tgt tp ON tp.ind = k.ind AND tp.city = k.city
                 AND tp.agency = k.agency AND tp.cat = k.cat AND tp.tperiod = t.pt
            """,
        ),
        "CREATE INDEX eng_tgt_pt_i ON eng_tgt_pt (ind, city, agency, cat, pt)",
        *d.analyze("eng_tgt_pt"),
        d.temp_table(
            "eng_base",
            f"""
            SELECT b.indicator_id AS ind, COALESCE(b.city_id, 0) AS city, {d.real("b.value")} AS value
            FROM indicators_baseline b JOIN eng_ind e ON e.ind = b.indicator_id
            """,
        ),
        f"""INSERT INTO eng_base (ind, city, value)
            SELECT b.ind, 0, SUM(b.value) FROM eng_base b JOIN eng_ind e ON e.ind = b.ind
            WHERE b.city <> 0 AND e.measure IN {ADDITIVE} AND e.place_rule = 'sum'
              AND NOT EXISTS (SELECT 1 FROM eng_base x WHERE x.ind = b.ind AND x.city = 0)
            GROUP BY b.ind""",
    ]


def _ratio(actual: str, goal: str) -> str:
    """Achievement of ``actual`` against ``goal`` (%), by measure, direction and target kind."""
    base = "COALESCE(z.baseline, 0)"
    return f"""CASE
      WHEN {goal} IS NULL OR {actual} IS NULL THEN NULL
      WHEN z.measure = 'yes_no' THEN CASE WHEN {actual} >= 1 THEN 100 ELSE 0 END
      WHEN z.direction = 'decrease' THEN CASE WHEN z.baseline IS NULL OR z.baseline = {goal}
           THEN NULL ELSE (z.baseline - {actual}) * 100.0 / (z.baseline - {goal}) END
      WHEN z.direction = 'maintain' THEN CASE WHEN {actual} >= {goal} THEN 100
           WHEN {goal} = 0 THEN NULL ELSE {actual} * 100.0 / {goal} END
      WHEN z.target_kind = 'change' THEN CASE WHEN {goal} = {base} THEN NULL
           ELSE ({actual} - {base}) * 100.0 / ({goal} - {base}) END
      WHEN {goal} = 0 THEN CASE WHEN {actual} > 0 THEN 100 END
      ELSE {actual} * 100.0 / {goal} END"""


def _status(value: str, target: str, achievement: str, pace: str) -> str:
    return f"""CASE
      WHEN {value} IS NULL THEN 'no_data'
      WHEN {target} IS NULL OR ({achievement} IS NULL AND z.measure <> 'yes_no') THEN 'not_assessed'
      WHEN {achievement} >= 100 THEN 'achieved'
      WHEN {pace} IS NULL OR {pace} >= z.t_on THEN 'on_track'
      WHEN {pace} >= z.t_risk THEN 'at_risk'
      ELSE 'off_track' END"""


def _over_scopes(path: str) -> str:
    """Each scope row of a path with its period, year-to-date and to-date figures. Sums over
    time are running totals of the scope's period figures."""
    key = "PARTITION BY a.ind, a.scope, a.city, a.agency, a.cat"
    frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    common = (
        "a.ind, a.scope, a.city, a.agency, a.cat, a.pt, t.pend, t.ypt, "
        "t.prog_elapsed, t.year_elapsed, a.p_val, a.p_num, a.p_den"
    )
    if path == "sum":
        in_year = "CASE WHEN t.pstart >= t.ystart THEN a.p_val END"
        return f"""
            SELECT {common},
                   SUM({in_year}) OVER ({key}, t.ystart ORDER BY t.pend {frame}) AS y_val,
                   SUM(a.p_val) OVER ({key} ORDER BY t.ystart, t.pend {frame}) AS l_val,
                   {NULL_REAL} AS l_num, {NULL_REAL} AS l_den,
                   SUM(a.p_n) OVER ({key} ORDER BY t.ystart, t.pend {frame}) AS l_n,
                   a.p_method AS method
            FROM ({scope_rows("sum")}) a JOIN eng_pt t ON t.ind = a.ind AND t.pt = a.pt
        """
    return f"""
        SELECT {common}, a.y_val, a.l_val, a.l_num, a.l_den, a.l_n, a.l_method AS method
        FROM ({scope_rows("state")}) a JOIN eng_pt t ON t.ind = a.ind AND t.pt = a.pt
    """


def insert_rollups(d: Dialect, path: str, computed_at_param: str) -> str:
    """Targets, expected-by-now, achievement and status of one path's scope rows, written in
    one statement."""
    base = "COALESCE(y.baseline, 0)"
    ltd_expected = (
        "CASE WHEN y.measure = 'yes_no' THEN CASE WHEN y.prog_elapsed >= 1 THEN y.l_target END "
        "WHEN y.direction = 'decrease' OR y.target_kind = 'change' THEN "
        f"{base} + (y.l_target - {base}) * y.prog_elapsed "
        "ELSE y.l_target * y.prog_elapsed END"
    )
    ytd_expected = (
        "CASE WHEN y.measure = 'yes_no' THEN CASE WHEN y.year_elapsed >= 1 THEN y.y_target END "
        "WHEN y.time_rule = 'sum' THEN y.y_target * y.year_elapsed ELSE y.y_target END"
    )
    ratio = {
        name: _ratio(f"y.{a}", f"y.{g}").replace("z.", "y.")
        for name, a, g in (
            ("p_ach", "p_val", "p_target"),
            ("y_ach", "y_val", "y_target"),
            ("y_pace", "y_val", "y_expected"),
            ("l_ach", "l_val", "l_target"),
            ("l_pace", "l_val", "l_expected"),
        )
    }
    return f"""
        INSERT INTO indicators_rollup (programme_id, indicator_id, scope, city_id, agency_id,
            period_id, as_of, category_id,
            actual, numerator, denominator, target, achievement, status,
            ytd_actual, ytd_target, ytd_expected, ytd_achievement, ytd_status,
            ltd_actual, ltd_numerator, ltd_denominator, baseline, ltd_target, ltd_expected,
            ltd_achievement, ltd_pace, ltd_status, method, n_values, computed_at)
        SELECT z.prog, z.ind, z.scope, NULLIF(z.city, 0), NULLIF(z.agency, 0), z.pt, z.pend,
               NULLIF(z.cat, 0),
               z.p_val, z.p_num, z.p_den, z.p_target, z.p_ach,
               {_status("z.p_val", "z.p_target", "z.p_ach", "z.p_ach")},
               z.y_val, z.y_target, z.y_expected, z.y_ach,
               {_status("z.y_val", "z.y_target", "z.y_ach", "z.y_pace")},
               z.l_val, z.l_num, z.l_den, z.baseline, z.l_target, z.l_expected, z.l_ach, z.l_pace,
               {_status("z.l_val", "z.l_target", "z.l_ach", "z.l_pace")},
               z.method, z.l_n, {computed_at_param}
        FROM (
          SELECT y.*, {", ".join(f"{expr} AS {name}" for name, expr in ratio.items())}
          FROM (
            SELECT y.*, {ytd_expected} AS y_expected, {ltd_expected} AS l_expected
            FROM (
              SELECT a.*, e.prog, e.measure, e.time_rule, e.direction, e.target_kind,
                     e.t_on, e.t_risk, b.value AS baseline, g.p_target, g.y_target,
                     g.l_target
              FROM ({_over_scopes(path)}) a
              JOIN eng_ind e ON e.ind = a.ind
              LEFT JOIN eng_base b ON b.ind = a.ind AND b.city = a.city AND a.agency = 0
              LEFT JOIN eng_tgt_pt g ON g.ind = a.ind AND g.city = a.city
                   AND g.agency = a.agency AND g.cat = a.cat AND g.pt = a.pt
            ) y
          ) y
        ) z
    """
