#!/usr/bin/env python3
"""Checks demo/networks.json against the territory catalogue and the Redes data conventions.

Usage: python3 demo/check.py [path/to/networks.json]

Standard library only. Prints counts and exits with status 1 (listing every problem) when the
file is invalid, 0 when it passes.
"""
import csv
import datetime
import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "networks.json")
CATALOG_DIR = os.path.join(HERE, os.pardir, "catalog", "territories")

ORG_KINDS = {"daem", "corporacion_municipal", "slep", "particular", "administracion_delegada",
             "deprov", "secretaria", "ministry", "centre"}
DEPENDENCIES = {"municipal_daem", "corporacion_municipal", "particular_subvencionado",
                "particular_pagado", "administracion_delegada", "slep"}
NETWORK_KINDS = {"red_mejoramiento_escolar", "comunidad_profesional_aprendizaje", "red_secretarias", "other"}
STATUSES = {"active", "paused", "closed"}
ROLES = {"member_school", "host", "director", "utp", "coordinator", "supervisor",
         "sostenedor_representative", "invited", "external_partner", "member_organization"}
MODALITIES = {"in_person", "virtual", "hybrid"}
# A head count's role: a person's position, or `participant` when the source does not say.
PARTICIPANT_ROLES = {"participant", "director", "utp", "docente", "supervisor_deprov",
                     "sostenedor_staff", "funcionario_secretaria", "equipo_psicosocial",
                     "encargado_convivencia", "coordinador_pie", "mentor", "facilitador", "other"}
SECRETARIA_LEVELS = {"departamental", "distrital", "municipal"}
COUNTRIES = {"CL", "CO"}

# Allowed territory levels for an organisation, by kind (None = any level).
ORG_LEVELS = {
    "daem": {"comuna"},
    "corporacion_municipal": {"comuna"},
    "slep": {"region", "provincia", "comuna"},
    "particular": {"region", "provincia", "comuna"},
    "administracion_delegada": {"region", "provincia", "comuna"},
    "deprov": {"region", "provincia", "comuna"},
    "secretaria": {"departamento", "municipio"},
    "ministry": {"country"},
    "centre": None,
}
SCHOOL_LEVELS = {"comuna", "municipio"}

# Key order of each object, as documented. Optional keys are listed in their place.
ORG_KEYS = ["ref", "kind", "name", "country", "territory", "secretaria_level"]
ORG_OPTIONAL = {"secretaria_level"}
SCHOOL_KEYS = ["ref", "name", "country", "territory", "dependency", "sostenedor"]
NETWORK_KEYS = ["ref", "name", "kind", "country", "territory", "responsible", "founded_year", "status",
                "principles_and_needs", "objective", "mobilisation", "collaboration", "learnings",
                "idea_fuerza", "challenges", "members", "sessions", "reported_totals", "notes"]
NETWORK_OPTIONAL = {"reported_totals"}
SESSION_KEYS = ["title", "date", "year", "modality", "place", "territory", "participants", "notes"]
REPORTED_TOTAL_KEYS = {"sessions", "participants", "certified_secretarias"}
TOP_KEYS = ["notes", "organizations", "schools", "networks"]

REF_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def load_catalog():
    """Returns {key: level}, e.g. {"CL-09105": "comuna", "CO": "country"}."""
    levels = {"CL": "country", "CO": "country"}
    for country, fname in (("CL", "cl.csv"), ("CO", "co.csv")):
        path = os.path.join(CATALOG_DIR, fname)
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                levels[f"{country}-{row['code']}"] = row["level"]
    return levels


def check_keys(where, obj, expected, optional=frozenset()):
    if not isinstance(obj, dict):
        err(where, f"expected an object, got {type(obj).__name__}")
        return False
    present = list(obj.keys())
    missing = [k for k in expected if k not in obj and k not in optional]
    extra = [k for k in present if k not in expected]
    if missing:
        err(where, f"missing keys {missing}")
    if extra:
        err(where, f"unexpected keys {extra}")
    order = [k for k in expected if k in obj]
    if not missing and not extra and present != order:
        err(where, f"keys out of order: {present} (expected {order})")
    return not missing


def parse_date(where, field, value):
    if value is None:
        return None
    if not isinstance(value, str) or not DATE_RE.match(value):
        err(where, f"{field} {value!r} is not an ISO date YYYY-MM-DD")
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        err(where, f"{field} {value!r} is not a valid date")
        return None


def check_text(where, field, value, nullable=True):
    if value is None:
        if not nullable:
            err(where, f"{field} must not be null")
        return
    if not isinstance(value, str) or not value.strip():
        err(where, f"{field} must be a non-empty string or null")
    elif value != value.strip() or "  " in value:
        err(where, f"{field} has stray whitespace")


def check_text_list(where, field, value):
    if not isinstance(value, list):
        err(where, f"{field} must be a list")
        return
    for i, item in enumerate(value):
        check_text(where, f"{field}[{i}]", item, nullable=False)


def check_territory(where, country, key, allowed_levels, catalog):
    """Checks existence, country prefix and level of a territory key."""
    if not isinstance(key, str):
        err(where, f"territory {key!r} must be a string")
        return None
    level = catalog.get(key)
    if level is None:
        err(where, f"territory {key!r} is not in the catalogue (catalog/territories/*.csv)")
        return None
    if country is not None and key.split("-", 1)[0] != country:
        err(where, f"territory {key!r} is not in country {country!r}")
    if allowed_levels is not None and level not in allowed_levels:
        err(where, f"territory {key!r} is a {level}; allowed: {sorted(allowed_levels)}")
    return level


def check_refs_unique(name, items):
    seen = Counter(it.get("ref") for it in items if isinstance(it, dict))
    for ref, n in seen.items():
        if n > 1:
            err(name, f"ref {ref!r} appears {n} times")
    for i, it in enumerate(items):
        ref = it.get("ref") if isinstance(it, dict) else None
        if not isinstance(ref, str) or not REF_RE.match(ref):
            err(f"{name}[{i}]", f"ref {ref!r} is not a lowercase ASCII slug")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DATA
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        print(f"ERROR: {path} is not UTF-8: {e}")
        return 1
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        print(f"ERROR: {path} is not valid JSON: {e}")
        return 1
    if text != json.dumps(data, indent=2, ensure_ascii=False) + "\n":
        err("file", "not pretty-printed with 2-space indent (json.dumps(indent=2, ensure_ascii=False) + newline)")

    catalog = load_catalog()
    if not check_keys("top level", data, TOP_KEYS):
        return report(None)
    check_text_list("top level", "notes", data["notes"])

    orgs = data["organizations"]
    schools = data["schools"]
    networks = data["networks"]
    for name, items in (("organizations", orgs), ("schools", schools), ("networks", networks)):
        if not isinstance(items, list):
            err("top level", f"{name} must be a list")
            return report(None)
        check_refs_unique(name, items)
    org_by_ref = {o.get("ref"): o for o in orgs if isinstance(o, dict)}
    school_by_ref = {s.get("ref"): s for s in schools if isinstance(s, dict)}

    # ---- organisations
    for i, o in enumerate(orgs):
        where = f"organizations[{i}] {o.get('ref') if isinstance(o, dict) else ''}"
        if not check_keys(where, o, ORG_KEYS, ORG_OPTIONAL):
            continue
        kind = o["kind"]
        check_text(where, "name", o["name"], nullable=False)
        if o["country"] not in COUNTRIES:
            err(where, f"country {o['country']!r} not in {sorted(COUNTRIES)}")
        if kind not in ORG_KINDS:
            err(where, f"kind {kind!r} not in {sorted(ORG_KINDS)}")
        else:
            check_territory(where, o["country"], o["territory"], ORG_LEVELS[kind], catalog)
        if "secretaria_level" in o:
            if kind != "secretaria":
                err(where, "secretaria_level is only for kind 'secretaria'")
            elif o["secretaria_level"] not in SECRETARIA_LEVELS:
                err(where, f"secretaria_level {o['secretaria_level']!r} not in {sorted(SECRETARIA_LEVELS)}")

    # ---- schools
    for i, s in enumerate(schools):
        where = f"schools[{i}] {s.get('ref') if isinstance(s, dict) else ''}"
        if not check_keys(where, s, SCHOOL_KEYS):
            continue
        check_text(where, "name", s["name"], nullable=False)
        if s["country"] not in COUNTRIES:
            err(where, f"country {s['country']!r} not in {sorted(COUNTRIES)}")
        check_territory(where, s["country"], s["territory"], SCHOOL_LEVELS, catalog)
        dep = s["dependency"]
        if s["country"] == "CL" and dep not in DEPENDENCIES:
            err(where, f"dependency {dep!r} not in {sorted(DEPENDENCIES)}")
        if s["country"] == "CO" and dep is not None and dep not in DEPENDENCIES:
            err(where, f"dependency {dep!r} not in {sorted(DEPENDENCIES)} (or null)")
        sost = s["sostenedor"]
        if sost is not None:
            if sost not in org_by_ref:
                err(where, f"sostenedor {sost!r} is not an organization ref")
            elif org_by_ref[sost]["kind"] in {"deprov", "ministry", "centre"}:
                err(where, f"sostenedor {sost!r} has kind {org_by_ref[sost]['kind']!r}, which cannot be a sostenedor")

    # ---- networks
    referenced_schools = set()
    referenced_orgs = set()
    for i, n in enumerate(networks):
        where = f"networks[{i}] {n.get('ref') if isinstance(n, dict) else ''}"
        if not check_keys(where, n, NETWORK_KEYS, NETWORK_OPTIONAL):
            continue
        check_text(where, "name", n["name"], nullable=False)
        if n["kind"] not in NETWORK_KINDS:
            err(where, f"kind {n['kind']!r} not in {sorted(NETWORK_KINDS)}")
        if n["status"] not in STATUSES:
            err(where, f"status {n['status']!r} not in {sorted(STATUSES)}")
        if n["country"] not in COUNTRIES:
            err(where, f"country {n['country']!r} not in {sorted(COUNTRIES)}")
        check_territory(where, n["country"], n["territory"], None, catalog)
        if n["responsible"] is not None:
            if n["responsible"] not in org_by_ref:
                err(where, f"responsible {n['responsible']!r} is not an organization ref")
            else:
                referenced_orgs.add(n["responsible"])
        fy = n["founded_year"]
        if fy is not None and (not isinstance(fy, int) or isinstance(fy, bool) or not 1900 <= fy <= 2100):
            err(where, f"founded_year {fy!r} must be a year or null")
        for field in ("principles_and_needs", "objective", "idea_fuerza"):
            check_text(where, field, n[field])
        for field in ("mobilisation", "collaboration", "learnings", "challenges", "notes"):
            check_text_list(where, field, n[field])

        if not isinstance(n["members"], list):
            err(where, "members must be a list")
            continue
        seen_members = Counter()
        for j, m in enumerate(n["members"]):
            mwhere = f"{where} members[{j}]"
            if not isinstance(m, dict):
                err(mwhere, "member must be an object")
                continue
            has_school, has_org = "school" in m, "organization" in m
            if has_school == has_org:
                err(mwhere, "must have exactly one of 'school' / 'organization'")
                continue
            first = "school" if has_school else "organization"
            check_keys(mwhere, m, [first, "role", "joined_on", "left_on"])
            target = m[first]
            if has_school:
                if target not in school_by_ref:
                    err(mwhere, f"school {target!r} is not a school ref")
                else:
                    referenced_schools.add(target)
                    if school_by_ref[target]["country"] != n["country"]:
                        err(mwhere, f"school {target!r} is in another country than the network")
            else:
                if target not in org_by_ref:
                    err(mwhere, f"organization {target!r} is not an organization ref")
                else:
                    referenced_orgs.add(target)
            seen_members[(first, target)] += 1
            if m.get("role") not in ROLES:
                err(mwhere, f"role {m.get('role')!r} not in {sorted(ROLES)}")
            if has_school and m.get("role") == "member_organization":
                err(mwhere, "role 'member_organization' is for organizations")
            if has_org and m.get("role") == "member_school":
                err(mwhere, "role 'member_school' is for schools")
            joined = parse_date(mwhere, "joined_on", m.get("joined_on"))
            left = parse_date(mwhere, "left_on", m.get("left_on"))
            if joined and left and joined > left:
                err(mwhere, f"joined_on {joined} is after left_on {left}")
            if joined and isinstance(fy, int) and joined.year < fy:
                err(mwhere, f"joined_on {joined} is before the network's founded_year {fy}")
        for (kind, target), count in seen_members.items():
            if count > 1:
                err(where, f"{kind} {target!r} is a member {count} times")

        if not isinstance(n["sessions"], list):
            err(where, "sessions must be a list")
        else:
            for j, sess in enumerate(n["sessions"]):
                swhere = f"{where} sessions[{j}]"
                if not check_keys(swhere, sess, SESSION_KEYS):
                    continue
                check_text(swhere, "title", sess["title"], nullable=False)
                d = parse_date(swhere, "date", sess["date"])
                y = sess["year"]
                if y is not None and (not isinstance(y, int) or isinstance(y, bool) or not 1900 <= y <= 2100):
                    err(swhere, f"year {y!r} must be a year or null")
                if d and isinstance(y, int) and d.year != y:
                    err(swhere, f"date {d} and year {y} disagree")
                if sess["modality"] is not None and sess["modality"] not in MODALITIES:
                    err(swhere, f"modality {sess['modality']!r} not in {sorted(MODALITIES)} (or null)")
                check_text(swhere, "place", sess["place"])
                if sess["territory"] is not None:
                    check_territory(swhere, n["country"], sess["territory"], None, catalog)
                check_text(swhere, "notes", sess["notes"])
                if not isinstance(sess["participants"], list):
                    err(swhere, "participants must be a list")
                else:
                    for k, p in enumerate(sess["participants"]):
                        pwhere = f"{swhere} participants[{k}]"
                        if check_keys(pwhere, p, ["role", "unit", "count", "label"]):
                            if p["role"] not in PARTICIPANT_ROLES:
                                err(pwhere, f"role {p['role']!r} not in {sorted(PARTICIPANT_ROLES)}")
                            if p["unit"] not in {"people", "organizations"}:
                                err(pwhere, f"unit {p['unit']!r} must be people or organizations")
                            check_text(pwhere, "label", p["label"])
                            c = p["count"]
                            if not isinstance(c, int) or isinstance(c, bool) or c < 0:
                                err(pwhere, f"count {c!r} must be a non-negative integer")

        if "reported_totals" in n:
            rt = n["reported_totals"]
            if not isinstance(rt, dict) or not rt:
                err(where, "reported_totals must be a non-empty object")
            else:
                for k, v in rt.items():
                    if k not in REPORTED_TOTAL_KEYS:
                        err(where, f"reported_totals key {k!r} not in {sorted(REPORTED_TOTAL_KEYS)}")
                    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                        err(where, f"reported_totals.{k} {v!r} must be a non-negative integer")

    for ref in school_by_ref:
        if ref not in referenced_schools:
            err(f"schools {ref}", "is not a member of any network")
    for ref, o in org_by_ref.items():
        used_as_sostenedor = any(s.get("sostenedor") == ref for s in schools if isinstance(s, dict))
        if ref not in referenced_orgs and not used_as_sostenedor:
            err(f"organizations {ref}", "is not referenced by any network or school")

    return report(data)


def report(data):
    if data is not None:
        orgs, schools, networks = data["organizations"], data["schools"], data["networks"]
        school_by_ref = {s.get("ref"): s for s in schools if isinstance(s, dict)}
        print(f"networks: {len(networks)}   schools: {len(schools)}   organizations: {len(orgs)}")
        kinds = Counter(o.get("kind") for o in orgs if isinstance(o, dict))
        print("organizations by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        print()
        print(f"{'network':<72} {'territory':<10} {'schools':>7}  by dependency / other members")
        for n in networks:
            if not isinstance(n, dict):
                continue
            members = n.get("members") or []
            deps = Counter(school_by_ref[m["school"]]["dependency"]
                           for m in members if isinstance(m, dict) and m.get("school") in school_by_ref)
            orgs_m = Counter(m.get("role") for m in members if isinstance(m, dict) and "organization" in m)
            detail = ", ".join(f"{k} {v}" for k, v in sorted(deps.items()))
            if orgs_m:
                detail += ("; " if detail else "") + "orgs: " + ", ".join(f"{k} {v}" for k, v in sorted(orgs_m.items()))
            label = f"{n.get('ref')} ({n.get('name')})"
            if len(label) > 72:
                label = label[:69] + "..."
            print(f"{label:<72} {str(n.get('territory')):<10} {sum(deps.values()):>7}  {detail}")
        print()
    if errors:
        print(f"FAILED with {len(errors)} error(s):")
        for e in errors:
            print(f"  - {e}")
        return 1
    print("OK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
