"""The engine's SQL, set-based and portable between PostgreSQL and SQLite (the embedded
default). Each step builds a temporary table from the previous ones; nothing loops over values
in Python.

Order of aggregation (DESIGN §3.1), for each as-of point P (a period with approved data):
1. per series (indicator × city × agency × cell): the value of P (span ``period``), or the
   values up to P combined by the indicator's time rule (``ltd``; ``ytd`` from the start of
   the reporting year containing P). Time is combined first, so a ``latest`` indicator takes
   each series' latest state even when it did not report in P.
2. per city: the RCO's joint (consolidated) value when there is one, else the agencies
   combined (sum; weighted Σnum/Σden for percentages when every part has them, else an
   unweighted mean, flagged; any for yes/no).
3. per agency (across cities) and for the programme: the place rule over cities; a total
   reported for the whole programme takes precedence for the programme.
4. targets (explicit, else the sum of the finer targets where figures add up), baselines,
   expected-by-now, achievement, pace against expected, status.

NULL city/agency/cell are carried as 0 inside the engine so joins can hash; they become NULL
again when written.
"""

from dataclasses import dataclass

KIND_RANK = "CASE {p}.kind WHEN 'quarter' THEN 1 WHEN 'year' THEN 2 ELSE 3 END"
APPROVED = "('approved', 'validated')"
ADDITIVE = "('count', 'amount', 'level')"


@dataclass(frozen=True)
class Dialect:
    """The few expressions that differ between PostgreSQL and SQLite."""

    vendor: str

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
        """``x`` as a number that divides without truncation."""
        return f"({x}) * 1.0"

    def temp_table(self, name: str, select: str) -> str:
        return f"CREATE TEMP TABLE {name} AS {select}"

    def analyze(self, name: str) -> list[str]:
        return [f"ANALYZE {name}"] if self.vendor == "postgresql" else []


TEMP_TABLES = (
    "eng_ind",
    "eng_leaf",
    "eng_pt",
    "eng_series",
    "eng_grid",
    "eng_last",
    "eng_ss",
    "eng_city",
    "eng_agency",
    "eng_prog",
    "eng_all",
    "eng_tgt",
    "eng_base",
    "eng_out",
)


def drop_temp_tables() -> list[str]:
    return [f"DROP TABLE IF EXISTS {t}" for t in TEMP_TABLES]


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
    """Approved values, keeping per series only its finest kind of period (quarters over
    reporting years over custom spans), so overlapping periods are not counted twice."""
    rank = KIND_RANK.format(p="p")
    return [
        d.temp_table(
            "eng_leaf",
            f"""
            SELECT ind, city, agency, cat, period, pstart, pend, val, num, den FROM (
              SELECT v.indicator_id AS ind, COALESCE(r.city_id, 0) AS city,
                     COALESCE(r.agency_id, 0) AS agency, COALESCE(v.category_id, 0) AS cat,
                     r.period_id AS period, p.start_date AS pstart, p.end_date AS pend,
                     {rank} AS krank,
                     MIN({rank}) OVER (PARTITION BY v.indicator_id, r.city_id, r.agency_id,
                                       v.category_id) AS minrank,
                     v.value AS val, v.numerator AS num, v.denominator AS den
              FROM indicators_indicatorvalue v
              JOIN eng_ind e ON e.ind = v.indicator_id
              JOIN indicators_progressreport r ON r.id = v.report_id
              JOIN monitoring_reportingperiod p ON p.id = r.period_id
              WHERE r.status IN {APPROVED} AND v.value IS NOT NULL
            ) x WHERE krank = minrank
            """,
        ),
        *d.analyze("eng_leaf"),
        # As-of points: every period with data, with the reporting year that contains it.
        d.temp_table(
            "eng_pt",
            f"""
            SELECT t.ind, t.pt, t.pt_end, t.pt_start,
                   COALESCE(y.id, 0) AS ypt, COALESCE(y.start_date, {d.year_start("t.pt_end")}) AS ystart,
                   y.end_date AS yend
            FROM (SELECT DISTINCT ind, period AS pt, pend AS pt_end, pstart AS pt_start
                  FROM eng_leaf) t
            JOIN eng_ind e ON e.ind = t.ind
            LEFT JOIN monitoring_reportingperiod y
              ON y.programme_id = e.prog AND y.kind = 'year'
             AND y.start_date <= t.pt_end AND y.end_date >= t.pt_end
            """,
        ),
        d.temp_table(
            "eng_series",
            "SELECT ind, city, agency, cat, MIN(pend) AS first_end FROM eng_leaf "
            "GROUP BY ind, city, agency, cat",
        ),
        *d.analyze("eng_pt"),
        *d.analyze("eng_series"),
    ]


def grid(d: Dialect) -> list[str]:
    """Each series at each as-of point from its first value on, with cumulative aggregates
    (life to date, and year to date within the reporting year)."""
    w_ltd = (
        "PARTITION BY g.ind, g.city, g.agency, g.cat ORDER BY g.pt_end "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    )
    w_ytd = (
        "PARTITION BY g.ind, g.city, g.agency, g.cat, g.ystart ORDER BY g.pt_end "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    )
    yv = "CASE WHEN g.pstart >= g.ystart THEN g.{c} END"
    return [
        d.temp_table(
            "eng_grid",
            f"""
            SELECT g.*,
              SUM(g.val) OVER w_ltd AS l_sum, MAX(g.val) OVER w_ltd AS l_max,
              AVG(g.val) OVER w_ltd AS l_avg, COUNT(g.val) OVER w_ltd AS l_cnt,
              SUM(g.num) OVER w_ltd AS l_num, SUM(g.den) OVER w_ltd AS l_den,
              COUNT(g.den) OVER w_ltd AS l_cden,
              MAX(CASE WHEN g.val IS NOT NULL THEN g.pend END) OVER w_ltd AS l_last,
              SUM({yv.format(c="val")}) OVER w_ytd AS y_sum,
              MAX({yv.format(c="val")}) OVER w_ytd AS y_max,
              AVG({yv.format(c="val")}) OVER w_ytd AS y_avg,
              COUNT({yv.format(c="val")}) OVER w_ytd AS y_cnt,
              SUM({yv.format(c="num")}) OVER w_ytd AS y_num,
              SUM({yv.format(c="den")}) OVER w_ytd AS y_den,
              COUNT({yv.format(c="den")}) OVER w_ytd AS y_cden,
              MAX(CASE WHEN g.val IS NOT NULL AND g.pstart >= g.ystart THEN g.pend END)
                OVER w_ytd AS y_last
            FROM (
              SELECT s.ind, s.city, s.agency, s.cat, t.pt, t.pt_end, t.ypt, t.ystart,
                     l.val, l.num, l.den, l.pstart, l.pend
              FROM eng_series s
              JOIN eng_pt t ON t.ind = s.ind AND t.pt_end >= s.first_end
              LEFT JOIN eng_leaf l ON l.ind = s.ind AND l.city = s.city
                   AND l.agency = s.agency AND l.cat = s.cat AND l.period = t.pt
            ) g
            WINDOW w_ltd AS ({w_ltd}), w_ytd AS ({w_ytd})
            """,
        ),
        *d.analyze("eng_grid"),
        # The value (and parts) of each series' latest period up to each point.
        d.temp_table(
            "eng_last",
            """
            SELECT g.ind, g.city, g.agency, g.cat, g.pt,
                   ll.val AS l_val, ll.num AS l_lnum, ll.den AS l_lden,
                   yl.val AS y_val, yl.num AS y_lnum, yl.den AS y_lden
            FROM eng_grid g
            JOIN eng_leaf ll ON ll.ind = g.ind AND ll.city = g.city AND ll.agency = g.agency
                 AND ll.cat = g.cat AND ll.pend = g.l_last
            LEFT JOIN eng_leaf yl ON yl.ind = g.ind AND yl.city = g.city AND yl.agency = g.agency
                 AND yl.cat = g.cat AND yl.pend = g.y_last
            """,
        ),
        *d.analyze("eng_last"),
    ]


def _time_combined(prefix: str, last: str) -> str:
    """Value, numerator, denominator and count of a series over a span, by time rule."""
    p, lv = prefix, last
    weighted_ok = f"(e.measure = 'percent' AND {p}_cden = {p}_cnt AND {p}_den > 0)"
    return f"""
      CASE e.time_rule
        WHEN 'sum' THEN {p}_sum
        WHEN 'max' THEN {p}_max
        WHEN 'mean' THEN CASE WHEN {weighted_ok} THEN {p}_num * 100.0 / {p}_den ELSE {p}_avg END
        ELSE {lv}_val END AS val,
      CASE e.time_rule WHEN 'latest' THEN {lv}_lnum
        WHEN 'mean' THEN CASE WHEN {weighted_ok} THEN {p}_num END END AS num,
      CASE e.time_rule WHEN 'latest' THEN {lv}_lden
        WHEN 'mean' THEN CASE WHEN {weighted_ok} THEN {p}_den END END AS den,
      {p}_cnt AS n"""


def series_spans(d: Dialect) -> list[str]:
    """Per series, per as-of point, per span: its combined value."""
    return [
        d.temp_table(
            "eng_ss",
            f"""
            SELECT g.ind, g.city, g.agency, g.cat, g.pt, 'period' AS span,
                   g.val, g.num, g.den, 1 AS n
            FROM eng_grid g WHERE g.val IS NOT NULL
            UNION ALL
            SELECT g.ind, g.city, g.agency, g.cat, g.pt, 'ltd' AS span, {_time_combined("g.l", "x.l")}
            FROM eng_grid g JOIN eng_ind e ON e.ind = g.ind
            JOIN eng_last x ON x.ind = g.ind AND x.city = g.city AND x.agency = g.agency
                 AND x.cat = g.cat AND x.pt = g.pt
            UNION ALL
            SELECT g.ind, g.city, g.agency, g.cat, g.pt, 'ytd' AS span, {_time_combined("g.y", "x.y")}
            FROM eng_grid g JOIN eng_ind e ON e.ind = g.ind
            JOIN eng_last x ON x.ind = g.ind AND x.city = g.city AND x.agency = g.agency
                 AND x.cat = g.cat AND x.pt = g.pt
            WHERE g.y_cnt > 0
            """,
        ),
        *d.analyze("eng_ss"),
    ]


def _combine(rule: str, src: str, additive_method: str = "'sum'") -> str:
    """Combine rows of ``src`` (val, num, den, n) by a place-like ``rule``; returns val, num,
    den, n and method. Percentages are weighted when every part has its numerator and
    denominator, else an unweighted mean (flagged by its method)."""
    weighted_ok = f"(COUNT({src}.den) = COUNT(*) AND SUM({src}.den) > 0)"
    return f"""
      CASE
        WHEN e.measure = 'yes_no' AND {rule} = 'all' THEN MIN({src}.val)
        WHEN e.measure = 'yes_no' THEN MAX({src}.val)
        WHEN e.measure = 'percent' AND {weighted_ok} THEN SUM({src}.num) * 100.0 / SUM({src}.den)
        WHEN e.measure = 'percent' OR {rule} = 'mean' THEN AVG({src}.val)
        ELSE SUM({src}.val) END AS val,
      CASE WHEN e.measure = 'percent' AND {weighted_ok} THEN SUM({src}.num) END AS num,
      CASE WHEN e.measure = 'percent' AND {weighted_ok} THEN SUM({src}.den) END AS den,
      SUM({src}.n) AS n,
      CASE
        WHEN e.measure = 'yes_no' AND {rule} = 'all' THEN 'all'
        WHEN e.measure = 'yes_no' THEN 'any'
        WHEN e.measure = 'percent' AND {weighted_ok} THEN 'weighted'
        WHEN e.measure = 'percent' THEN 'unweighted'
        WHEN {rule} = 'mean' THEN 'mean'
        ELSE {additive_method} END AS method"""


def scopes(d: Dialect) -> list[str]:
    """Series values → city (agencies combined), agency and programme (cities combined)."""
    gross_or_sum = "CASE WHEN e.agency_rule = 'consolidated' THEN 'gross' ELSE 'sum' END"
    return [
        # Per city: the joint value where the RCO entered one, else the agencies combined.
        d.temp_table(
            "eng_city",
            f"""
            SELECT s.ind, s.city, s.cat, s.pt, s.span, s.val, s.num, s.den, s.n,
                   'consolidated' AS method
            FROM eng_ss s WHERE s.city <> 0 AND s.agency = 0
            UNION ALL
            SELECT s.ind, s.city, s.cat, s.pt, s.span,
                   {_combine("'sum'", "s", gross_or_sum)}
            FROM (SELECT s.* FROM eng_ss s
                  WHERE s.city <> 0 AND s.agency <> 0
                    AND NOT EXISTS (SELECT 1 FROM eng_ss j WHERE j.ind = s.ind
                        AND j.city = s.city AND j.agency = 0 AND j.cat = s.cat
                        AND j.pt = s.pt AND j.span = s.span)) s
            JOIN eng_ind e ON e.ind = s.ind
            GROUP BY s.ind, s.city, s.cat, s.pt, s.span, e.measure, e.agency_rule
            """,
        ),
        *d.analyze("eng_city"),
        # Per agency, across its cities, by the place rule.
        d.temp_table(
            "eng_agency",
            f"""
            SELECT s.ind, s.agency, s.cat, s.pt, s.span, {_combine("e.place_rule", "s")}
            FROM eng_ss s
            JOIN eng_ind e ON e.ind = s.ind
            WHERE e.place_rule <> 'none' AND s.agency <> 0 AND s.city <> 0 AND s.cat = 0
            GROUP BY s.ind, s.agency, s.cat, s.pt, s.span, e.measure, e.place_rule
            """,
        ),
        # The programme: a total reported for the whole programme, else the cities combined.
        d.temp_table(
            "eng_prog",
            f"""
            SELECT s.ind, s.cat, s.pt, s.span, s.val, s.num, s.den, s.n, 'reported' AS method
            FROM eng_ss s JOIN eng_ind e ON e.ind = s.ind
            WHERE s.city = 0 AND s.agency = 0
            UNION ALL
            SELECT c.ind, c.cat, c.pt, c.span, {_combine("e.place_rule", "c")}
            FROM eng_city c JOIN eng_ind e ON e.ind = c.ind
            WHERE e.place_rule <> 'none'
              AND NOT EXISTS (SELECT 1 FROM eng_ss r WHERE r.ind = c.ind AND r.city = 0
                  AND r.agency = 0 AND r.cat = c.cat AND r.pt = c.pt AND r.span = c.span)
            GROUP BY c.ind, c.cat, c.pt, c.span, e.measure, e.place_rule
            """,
        ),
        # Every scope in one table, with the cells each scope keeps.
        d.temp_table(
            "eng_all",
            """
            SELECT ind, 'programme' AS scope, 0 AS city, 0 AS agency, cat, pt, span,
                   val, num, den, n, method FROM eng_prog
            UNION ALL
            SELECT ind, 'city', city, 0, cat, pt, span, val, num, den, n, method FROM eng_city
            UNION ALL
            SELECT ind, 'agency', 0, agency, cat, pt, span, val, num, den, n, method FROM eng_agency
            UNION ALL
            SELECT s.ind, 'city_agency', s.city, s.agency, s.cat, s.pt, s.span, s.val, s.num,
                   s.den, s.n, 'value'
            FROM eng_ss s WHERE s.city <> 0 AND s.agency <> 0 AND s.cat = 0
            """,
        ),
        *d.analyze("eng_all"),
    ]


def targets_and_baselines(d: Dialect) -> list[str]:
    """Targets per scope key (explicit; else the sum of finer targets where figures add up)
    and baselines per scope (explicit; else the sum of city baselines for summed indicators)."""
    tgt_cols = "ind, city, agency, tperiod, cat, value"
    return [
        d.temp_table(
            "eng_tgt",
            """
            SELECT t.indicator_id AS ind, COALESCE(t.city_id, 0) AS city,
                   COALESCE(t.agency_id, 0) AS agency, COALESCE(t.period_id, 0) AS tperiod,
                   COALESCE(t.category_id, 0) AS cat, t.value AS value
            FROM indicators_target t JOIN eng_ind e ON e.ind = t.indicator_id
            """,
        ),
        # city from city × agency, where the city has none and agencies add up
        f"""INSERT INTO eng_tgt ({tgt_cols})
            SELECT t.ind, t.city, 0, t.tperiod, t.cat, SUM(t.value)
            FROM eng_tgt t JOIN eng_ind e ON e.ind = t.ind
            WHERE t.city <> 0 AND t.agency <> 0 AND e.measure IN {ADDITIVE}
              AND NOT EXISTS (SELECT 1 FROM eng_tgt x WHERE x.ind = t.ind AND x.city = t.city
                  AND x.agency = 0 AND x.tperiod = t.tperiod AND x.cat = t.cat)
            GROUP BY t.ind, t.city, t.tperiod, t.cat""",
        # agency across cities
        f"""INSERT INTO eng_tgt ({tgt_cols})
            SELECT t.ind, 0, t.agency, t.tperiod, t.cat, SUM(t.value)
            FROM eng_tgt t JOIN eng_ind e ON e.ind = t.ind
            WHERE t.city <> 0 AND t.agency <> 0 AND e.measure IN {ADDITIVE}
              AND e.place_rule = 'sum'
            GROUP BY t.ind, t.agency, t.tperiod, t.cat""",
        # programme from cities
        f"""INSERT INTO eng_tgt ({tgt_cols})
            SELECT t.ind, 0, 0, t.tperiod, t.cat, SUM(t.value)
            FROM eng_tgt t JOIN eng_ind e ON e.ind = t.ind
            WHERE t.city <> 0 AND t.agency = 0 AND e.measure IN {ADDITIVE}
              AND e.place_rule = 'sum'
              AND NOT EXISTS (SELECT 1 FROM eng_tgt x WHERE x.ind = t.ind AND x.city = 0
                  AND x.agency = 0 AND x.tperiod = t.tperiod AND x.cat = t.cat)
            GROUP BY t.ind, t.tperiod, t.cat""",
        "CREATE INDEX eng_tgt_i ON eng_tgt (ind, city, agency, tperiod, cat)",
        *d.analyze("eng_tgt"),
        d.temp_table(
            "eng_base",
            """
            SELECT b.indicator_id AS ind, COALESCE(b.city_id, 0) AS city, b.value AS value
            FROM indicators_baseline b JOIN eng_ind e ON e.ind = b.indicator_id
            """,
        ),
        f"""INSERT INTO eng_base (ind, city, value)
            SELECT b.ind, 0, SUM(b.value) FROM eng_base b JOIN eng_ind e ON e.ind = b.ind
            WHERE b.city <> 0 AND e.measure IN {ADDITIVE} AND e.place_rule = 'sum'
              AND NOT EXISTS (SELECT 1 FROM eng_base x WHERE x.ind = b.ind AND x.city = 0)
            GROUP BY b.ind""",
    ]


def _ratio(actual: str, goal: str, d: Dialect) -> str:
    """Achievement of ``actual`` against ``goal`` (%), by direction and target kind."""
    base = "COALESCE(a.baseline, 0)"
    return f"""CASE
      WHEN {goal} IS NULL OR {actual} IS NULL THEN NULL
      WHEN e.measure = 'yes_no' THEN CASE WHEN {actual} >= 1 THEN 100 ELSE 0 END
      WHEN e.direction = 'decrease' THEN CASE WHEN a.baseline IS NULL OR a.baseline = {goal}
           THEN NULL ELSE (a.baseline - {actual}) * 100.0 / (a.baseline - {goal}) END
      WHEN e.direction = 'maintain' THEN CASE WHEN {actual} >= {goal} THEN 100
           WHEN {goal} = 0 THEN NULL ELSE {actual} * 100.0 / {goal} END
      WHEN e.target_kind = 'change' THEN CASE WHEN {goal} = {base} THEN NULL
           ELSE ({actual} - {base}) * 100.0 / ({goal} - {base}) END
      WHEN {goal} = 0 THEN CASE WHEN {actual} > 0 THEN 100 ELSE NULL END
      ELSE {actual} * 100.0 / {goal} END"""


def outcome(d: Dialect) -> list[str]:
    """Targets, baselines and expected-by-now for every rollup row."""
    elapsed_prog = (
        f"CASE WHEN {d.days('t.pt_end', 'e.prog_start')} < 0 THEN 0.0 "
        f"WHEN {d.days('t.pt_end', 'e.prog_end')} >= 0 THEN 1.0 "
        f"ELSE ({d.days('t.pt_end', 'e.prog_start')} + 1) * 1.0 / "
        f"({d.days('e.prog_end', 'e.prog_start')} + 1) END"
    )
    elapsed_year = (
        "CASE WHEN t.yend IS NULL THEN 1.0 "
        f"ELSE ({d.days('t.pt_end', 't.ystart')} + 1) * 1.0 / "
        f"({d.days('t.yend', 't.ystart')} + 1) END"
    )
    base = "COALESCE(b.value, 0)"
    lop_expected = (
        f"CASE WHEN e.measure = 'yes_no' THEN CASE WHEN {elapsed_prog} >= 1 THEN tl.value END "
        "WHEN e.direction = 'decrease' OR e.target_kind = 'change' THEN "
        f"{base} + (tl.value - {base}) * {elapsed_prog} "
        f"ELSE tl.value * {elapsed_prog} END"
    )
    year_expected = (
        f"CASE WHEN e.measure = 'yes_no' THEN CASE WHEN {elapsed_year} >= 1 THEN ty.value END "
        f"WHEN e.time_rule = 'sum' THEN ty.value * {elapsed_year} ELSE ty.value END"
    )
    return [
        d.temp_table(
            "eng_out",
            f"""
            SELECT a.ind, a.scope, a.city, a.agency, a.cat, a.pt, a.span, a.val, a.num,
                   a.den, a.n, a.method, t.pt_end, b.value AS baseline,
                   CASE a.span WHEN 'ltd' THEN tl.value WHEN 'ytd' THEN ty.value
                        ELSE tp.value END AS target,
                   CASE a.span WHEN 'ltd' THEN {lop_expected} WHEN 'ytd' THEN {year_expected}
                        ELSE tp.value END AS expected
            FROM eng_all a
            JOIN eng_ind e ON e.ind = a.ind
            JOIN eng_pt t ON t.ind = a.ind AND t.pt = a.pt
            LEFT JOIN eng_base b ON b.ind = a.ind AND b.city = a.city AND a.agency = 0
            LEFT JOIN eng_tgt tl ON tl.ind = a.ind AND tl.city = a.city AND tl.agency = a.agency
                 AND tl.cat = a.cat AND tl.tperiod = 0
            LEFT JOIN eng_tgt ty ON ty.ind = a.ind AND ty.city = a.city AND ty.agency = a.agency
                 AND ty.cat = a.cat AND ty.tperiod = t.ypt AND t.ypt <> 0
            LEFT JOIN eng_tgt tp ON tp.ind = a.ind AND tp.city = a.city AND tp.agency = a.agency
                 AND tp.cat = a.cat AND tp.tperiod = a.pt
            """,
        ),
    ]


def _ratio(actual: str, goal: str) -> str:
    """Achievement of ``actual`` against ``goal`` (%), by measure, direction and kind."""
    base = "COALESCE(a.baseline, 0)"
    return f"""CASE
      WHEN {goal} IS NULL OR {actual} IS NULL THEN NULL
      WHEN e.measure = 'yes_no' THEN CASE WHEN {actual} >= 1 THEN 100 ELSE 0 END
      WHEN e.direction = 'decrease' THEN CASE WHEN a.baseline IS NULL OR a.baseline = {goal}
           THEN NULL ELSE (a.baseline - {actual}) * 100.0 / (a.baseline - {goal}) END
      WHEN e.direction = 'maintain' THEN CASE WHEN {actual} >= {goal} THEN 100
           WHEN {goal} = 0 THEN NULL ELSE {actual} * 100.0 / {goal} END
      WHEN e.target_kind = 'change' THEN CASE WHEN {goal} = {base} THEN NULL
           ELSE ({actual} - {base}) * 100.0 / ({goal} - {base}) END
      WHEN {goal} = 0 THEN CASE WHEN {actual} > 0 THEN 100 END
      ELSE {actual} * 100.0 / {goal} END"""


def insert_rollups(computed_at_param: str) -> str:
    return f"""
        INSERT INTO indicators_rollup (programme_id, indicator_id, scope, city_id, agency_id,
            span, period_id, as_of, category_id, actual, numerator, denominator, baseline,
            target, expected, achievement, pace, status, method, n_values, computed_at)
        SELECT x.prog, x.ind, x.scope, NULLIF(x.city, 0), NULLIF(x.agency, 0), x.span, x.pt,
               x.pt_end, NULLIF(x.cat, 0), x.val, x.num, x.den, x.baseline, x.target,
               x.expected, x.achievement, x.pace,
               CASE
                 WHEN x.val IS NULL THEN 'no_data'
                 WHEN x.target IS NULL OR (x.achievement IS NULL AND x.measure <> 'yes_no')
                   THEN 'not_assessed'
                 WHEN x.achievement >= 100 THEN 'achieved'
                 WHEN x.pace IS NULL OR x.pace >= x.t_on THEN 'on_track'
                 WHEN x.pace >= x.t_risk THEN 'at_risk'
                 ELSE 'off_track' END,
               x.method, x.n, {computed_at_param}
        FROM (SELECT a.*, e.prog, e.measure, e.t_on, e.t_risk,
                     {_ratio("a.val", "a.target")} AS achievement,
                     {_ratio("a.val", "a.expected")} AS pace
              FROM eng_out a JOIN eng_ind e ON e.ind = a.ind) x
    """
