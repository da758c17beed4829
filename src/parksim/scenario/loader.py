"""Read scenario files: TOML, ``extends`` chains, overrides, validation."""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from parksim.errors import Problem, ScenarioError
from parksim.scenario.bounds import plausibility_problems
from parksim.scenario.inputs import MAX_TOML_BYTES, read_bytes, read_pipeline, read_register
from parksim.scenario.observations import read_observations
from parksim.scenario.spec import Scenario

__all__ = ["load_scenario", "scenario_from_dict", "parse_override", "scenario_hash"]


def _read_toml(path: Path) -> dict:
    data = read_bytes(path, MAX_TOML_BYTES, "scenario (TOML)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError([Problem(str(path), "", f"cannot read: not UTF-8 text ({err})")]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError([Problem(str(path), "", f"not valid TOML: {err}")]) from None


def _record(value, path: tuple, origins: dict, file: str) -> None:
    """Note ``file`` as the origin of ``path`` and of every key below it."""
    origins[path] = file
    if isinstance(value, dict):
        for k, v in value.items():
            _record(v, path + (k,), origins, file)


def _merge(base: dict, over: dict, origins: dict, file: str, prefix: tuple = ()) -> dict:
    """Deep-merge ``over`` into ``base``: tables merge key by key, anything else replaces.

    ``origins`` maps every key path to the file that wrote it, so that an error
    names the file in the ``extends`` chain where the bad value stands.
    """
    out = dict(base)
    for key, value in over.items():
        path = prefix + (key,)
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = _merge(out[key], value, origins, file, path)
            origins.setdefault(path, file)
        else:
            out[key] = copy.deepcopy(value)
            _forget(origins, path)
            _record(value, path, origins, file)
    return out


def _forget(origins: dict, path: tuple) -> None:
    """Drop what ``origins`` knows of ``path`` and every key below it (a value that is replaced)."""
    n = len(path)
    for k in [k for k in origins if k[:n] == path or (k[0] == _WRITTEN and k[1 : n + 1] == path)]:
        del origins[k]


#: the lists a file of an ``extends`` chain may add to (``extra_targets``, ``extra_observations``) instead of replacing
EXTENSIBLE = ("targets", "observations")

#: origins key ``(_WRITTEN, list, index)``: how the file names an item of a list whose place differs from its key path
#: (a target appended from ``extra_targets.0``, an observation from row 3 of a CSV file), for error messages
_WRITTEN = "<as written>"


def _as_written(loc: tuple, origins: dict) -> str:
    """The key path ``loc`` as the file that wrote it names it: ``extra_targets.0.year``, ``row 3 (line 4), column 'year'``."""
    loc = tuple(str(x) for x in loc)
    name = origins.get((_WRITTEN, *loc[:2])) if len(loc) >= 2 else None
    if name is None:
        return ".".join(loc)
    if name.startswith("row "):  # a CSV row: its cells are columns
        return f"{name}, column {loc[2]!r}" if len(loc) > 2 else name
    return ".".join((name, *loc[2:]))


def _folder_of(key: tuple, origins: dict, base: Path) -> Path:
    """The folder a relative path under ``key`` is read from: that of the scenario file that wrote the key (``base``
    for a value given by --set or in Python)."""
    f = _origin(key, origins, "")
    return Path(f).parent if f and f not in ("--set", "<dict>") else base


def _read_input(key: tuple, name: str, reader, origins: dict, source: str, base: Path) -> tuple[Any, list[Problem], Path]:
    """``reader(path)`` of the CSV file that ``key`` names, or the problems that name the file and the key naming it."""
    path = _folder_of(key, origins, base) / name
    if not path.exists():  # name the key and the scenario file that refer to the missing file
        message = (
            f"{path}: file not found (the CSV file named by this key, {name!r}; a relative path is read from the folder of"
            " the scenario file that names it)"
        )
        return None, [Problem(_origin(key, origins, source), ".".join(key), message)], path
    try:
        return reader(path), [], path
    except ScenarioError as err:
        named_by = f"{'.'.join(key)} of {_origin(key, origins, source)}"
        problems = [p if p.where else Problem(p.file, p.where, f"{p.message} (the file named by {named_by})") for p in err.problems]
        return None, problems, path


def _observations_csv(data: dict, origins: dict, base: Path, source: str) -> list[Problem]:
    """Replace ``observations = "file.csv"`` by the file's rows as tables, each row's errors named by file and row."""
    name = data.get("observations")
    if not isinstance(name, str):
        return []
    rows, problems, path = _read_input(("observations",), name, read_observations, origins, source, base)
    data["observations"] = rows or []
    for i in range(len(data["observations"])):
        origins[("observations", str(i))] = str(path)
        origins[(_WRITTEN, "observations", str(i))] = f"row {i + 1} (line {i + 2})"
    return problems


def _add_extra(data: dict, origins: dict, file: str, base: Path) -> dict:
    """Append a file's ``extra_targets`` and ``extra_observations`` to the lists it inherits (``[[targets]]`` and
    ``[[observations]]`` would replace them)."""
    for key in EXTENSIBLE:
        extra = data.pop(f"extra_{key}", None)
        if extra is None:
            continue
        if not isinstance(extra, list):
            raise ScenarioError([Problem(file, f"extra_{key}", f"expected a list of tables ([[extra_{key}]]), got {extra!r}")])
        if key == "observations" and (problems := _observations_csv(data, origins, base, file)):
            raise ScenarioError(problems)
        inherited = data.get(key, [])
        if not isinstance(inherited, list):  # reported by the schema
            continue
        data[key] = [*inherited, *copy.deepcopy(extra)]
        for j, t in enumerate(extra):
            i = len(inherited) + j
            _record(t, (key, str(i)), origins, file)
            origins[(_WRITTEN, key, str(i))] = f"extra_{key}.{j}"
    return data


def targets_replaced(path: str | Path) -> list[str]:
    """Files of ``path``'s ``extends`` chain whose ``[[targets]]`` (or ``[[observations]]``) replace every target (or
    observation) of the file they extend.

    A variant that declares one ``[[targets]]`` table drops all of its base's targets (lists replace, tables merge);
    ``[[extra_targets]]`` adds to them instead; the same holds for observations. ``parksim validate`` says so.
    """
    out = []
    path = Path(path).resolve()
    chain = []
    seen = set()
    while path not in seen and path.exists():
        seen.add(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            break
        chain.append((path, data))
        parent = data.get("extends")
        if not isinstance(parent, str):
            break
        path = (path.parent / parent).resolve()
    for k, (p, data) in enumerate(chain):
        for key, one in (("targets", "target"), ("observations", "observation")):
            inherited = any(key in d or f"extra_{key}" in d for _, d in chain[k + 1 :])
            if key in data and inherited:
                given = f"{len(data[key])} [[{key}]]" if isinstance(data[key], list) else f"{key} = {data[key]!r}"
                out.append(
                    f"{p}: its {given} replace every {one} of the scenario it extends ({chain[k + 1][0].name});"
                    f" use [[extra_{key}]] to add {key} instead"
                )
    return out


def _resolve(path: Path, seen: tuple[Path, ...]) -> tuple[dict, dict]:
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise ScenarioError([Problem(str(seen[-1]), "extends", f"circular extends: {chain}")])
    data = _read_toml(path)
    parent = data.pop("extends", None)
    origins: dict = {}
    if parent is None:
        return _add_extra(_merge({}, data, origins, str(path)), origins, str(path), path.parent), origins
    if not isinstance(parent, str):
        raise ScenarioError([Problem(str(path), "extends", f"expected a file name (string), got {parent!r}")])
    parent_path = path.parent / parent
    if not parent_path.exists():
        raise ScenarioError([Problem(str(path), "extends", f"file {parent!r} not found (looked in {path.parent})")])
    base, origins = _resolve(parent_path, (*seen, path))
    return _add_extra(_merge(base, data, origins, str(path)), origins, str(path), path.parent), origins


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key.path=value`` (the value in TOML syntax; a bare word is a string)."""
    if "=" not in text:
        raise ScenarioError([Problem("--set", text, "expected key.path=value")])
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ScenarioError([Problem("--set", text, "expected key.path=value with a non-empty key")])
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def _apply_overrides(data: dict, origins: dict, overrides: Mapping[str, Any]) -> dict:
    for key, value in overrides.items():
        parts = tuple(key.split("."))
        node = data
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
                origins[parts[: i + 1]] = "--set"  # a table that only --set creates
            elif not isinstance(nxt, dict):
                where = ".".join(parts[: i + 1])
                raise ScenarioError([Problem("--set", key, f"{where} is a value, not a table")])
            node = nxt
        node[parts[-1]] = value
        _forget(origins, parts)
        _record(value, parts, origins, "--set")
    return data


def _origin(loc: tuple, origins: dict, default: str) -> str:
    loc = tuple(str(x) for x in loc)
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            return origins[loc[:n]]
    return default


def _unused_values(scn, origins: dict, source: str) -> list[Problem]:
    """Warnings for values a scenario sets that its other choices leave unused: under Chongqing's registry the
    starting firms' tech-based status is the registry's evaluation of their traits, so ``tech_sme_share`` is not read
    (model/park.py ``_registry_at_start``)."""
    found: list[Problem] = []
    if scn.certification.tech_based == "chongqing_registry":
        for name, sector in scn.baseline.sectors.items():
            if "tech_sme_share" in sector.model_fields_set:
                key = ("baseline", "sectors", name, "tech_sme_share")
                found.append(
                    Problem(
                        _origin(key, origins, source),
                        ".".join(key),
                        "is not used under certification.tech_based = 'chongqing_registry': the starting firms that register"
                        " and meet the registry's conditions are its members (remove the value, or set the registry's"
                        " parameters instead)",
                    )
                )
    return found


def _problems(err: ValidationError, data: dict, origins: dict, default: str) -> list[Problem]:
    defaults = data.get("sector_defaults") if isinstance(data.get("sector_defaults"), dict) else {}
    out = []
    for e in err.errors():
        loc = tuple(str(x) for x in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (a typo? unknown keys are errors, never ignored)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif value is not None and not isinstance(value, dict) and repr(value) not in msg and str(value) not in msg:
            msg = f"{msg}, got {value!r}"
        if not loc:  # a model-level check that names its key in the message
            head, sep, rest = msg.partition(": ")
            if sep and " " not in head:
                loc, msg = tuple(head.split(".")), rest
        # a sector value that came from [sector_defaults] is reported there
        if len(loc) >= 3 and loc[0] == "sectors" and loc[2] in defaults:
            own = data.get("sectors", {}).get(loc[1])
            if not (isinstance(own, dict) and loc[2] in own):
                loc = ("sector_defaults", *loc[2:])
                msg = f"{msg} (applied to every sector)"
        where = _as_written(loc, origins)  # a target added by extra_targets, an observation from a CSV row
        problem = Problem(_origin(loc, origins, default), where, msg)
        if problem not in out:
            out.append(problem)
    return out


def scenario_from_dict(
    data: Mapping[str, Any],
    *,
    base_dir: str | Path | None = None,
    origins: dict | None = None,
    source: str = "<dict>",
) -> Scenario:
    """Validate a scenario given as a (TOML-shaped) dict and read its CSV inputs.

    Relative CSV paths are read from ``base_dir`` (default: the working directory).
    """
    origins = dict(origins or {})
    data = copy.deepcopy(dict(data))
    data.pop("extends", None)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    data = _add_extra(data, origins, source, base)
    problems: list[Problem] = _observations_csv(data, origins, base, source)
    try:
        scn = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(problems + _problems(err, data, origins, source)) from None
    scn._raw = data
    scn._source = source
    scn._warnings = plausibility_problems(scn, lambda key: _origin(key, origins, source)) + _unused_values(scn, origins, source)
    csv_inputs = [
        (("baseline", "enterprises"), scn.baseline.enterprises, read_register, "_register"),
        (("pipeline", "known_projects"), scn.pipeline.known_projects, read_pipeline, "_projects"),
    ]
    for key, name, reader, attr in csv_inputs:
        if name:
            frame, found, _ = _read_input(key, name, lambda path, reader=reader: reader(path, scn), origins, source, base)
            setattr(scn, attr, frame)
            problems += found
    parks = [p.name for p in scn.portfolio.parks] if scn.portfolio is not None else None
    for i, t in enumerate(scn.targets):  # a target's parks: only in a portfolio, and only its parks
        if t.parks is None:
            continue
        file = _origin(("targets", str(i), "parks"), origins, source)
        key = _as_written(("targets", i, "parks"), origins)  # as the file names it
        if parks is None:
            problems.append(Problem(file, key, f"{t.parks!r}: a target's parks apply only to a portfolio ([portfolio] table)"))
        elif unknown := [p for p in t.parks if p not in parks]:
            problems.append(Problem(file, key, f"unknown park(s) {unknown}; expected names from portfolio.parks: {parks}"))
        elif not t.parks:
            problems.append(Problem(file, key, "an empty list; expected at least one park (or no `parks` key: every park)"))
    if problems:
        raise ScenarioError(problems)
    if scn.portfolio is not None:
        scn._members = _portfolio_members(scn, data, origins, base, source)
    return scn


def _portfolio_members(scn, data: dict, origins: dict, base: Path, source: str) -> list:
    """Each park of a portfolio: this scenario with the park's overrides.

    A member has no [portfolio], no [assessment] and no observations of its own: the portfolio
    assesses all its parks together (rank rules need every park's values), and its observations
    name the park they observe.
    """
    members = []
    for i, park in enumerate(scn.portfolio.parks):
        member = copy.deepcopy({k: v for k, v in data.items() if k not in ("portfolio", "assessment", "observations")})
        # the park is held only to the targets that name it (or name no parks)
        member["targets"] = [
            {k: v for k, v in t.items() if k != "parks"} if isinstance(t, dict) else t
            for t in member.get("targets", [])
            if not isinstance(t, dict) or park.name in (t.get("parks") or [park.name])
        ]
        try:
            member_origins = dict(origins)
            member = _apply_overrides(member, member_origins, park.overrides)
            for key in park.overrides:
                member_origins[tuple(key.split("."))] = source
            m = scenario_from_dict(member, base_dir=base, origins=member_origins, source=source)
        except ScenarioError as err:
            where = f"portfolio.parks.{i}.overrides ({park.name})"
            raise ScenarioError([Problem(p.file, f"{where}: {p.where}" if p.where else where, p.message) for p in err.problems]) from None
        m._source = f"{source} [{park.name}]"
        members.append((park.name, m))
    return members


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> Scenario:
    """Load and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        A TOML scenario file. It may ``extends = "other.toml"`` (relative to
        itself) and override only some keys.
    overrides : mapping or iterable of "key.path=value", optional
        Values applied on top of the file, validated exactly like it.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Naming the file, the key path, the value and what was expected.

    Examples
    --------
    >>> import parksim
    >>> scn = parksim.load_scenario("scenarios/bench.toml")
    >>> scn.simulation.years
    6
    """
    path = Path(path)
    data, origins = _resolve(path, ())
    if overrides:
        if not isinstance(overrides, Mapping):
            overrides = dict(parse_override(o) for o in overrides)
        data = _apply_overrides(data, origins, overrides)
    return scenario_from_dict(data, base_dir=path.resolve().parent, origins=origins, source=str(path))


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the fully resolved scenario (and the content of its CSV inputs), without its observations: they do
    not change a run, so a run's checkpoint and manifest stay valid when figures are added."""
    dumped = scenario.model_dump(mode="json")
    dumped.pop("observations", None)
    payload = json.dumps(dumped, sort_keys=True, ensure_ascii=False)
    h = hashlib.sha256(payload.encode("utf-8"))
    for frame in (scenario._register, scenario._projects):
        if frame is not None:
            h.update(frame.to_csv(index=False).encode("utf-8"))
    return h.hexdigest()


def as_scenario(scenario) -> Scenario:
    """``scenario`` itself, or the scenario loaded from the file it names (the API's functions take either)."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    raise TypeError(f'"scenario" must be a Scenario or a path to a scenario file, got {type(scenario).__name__}')
