#!/usr/bin/env python3
"""Keeps the recovery study of issue 17 across machines: appends every finished run of an `infer_recovery.sh` work
directory to a committed CSV (one row per run and hyperparameter), and summarises the CSV.

Why: a 25-lens mock takes 25-30 min on 2 cores, the study needs tens of them, and a session's work directory does
not outlive its machine. The CSV keeps what each run measured and how it was made (commit, settings, table), so
later sessions add mocks instead of starting over, and coverage is counted only over runs made the same way.

    python3 Benchmarks/infer_recovery_record.py add WORK --commit SHA      # append WORK/n*-seed*-ml*/run results
    python3 Benchmarks/infer_recovery_record.py summary                    # coverage per (settings, N, microlensing)

Columns: n, seed, microlensing, commit (the run's metadata git_commit, else --commit: a binary copied out of its
checkout records "unknown"), settings (the infer.yaml keys that change the answer, as key=value;...),
table_version (the magnification table's; runs are grouped by it, since a table rebuilt from the same grid has
other bytes) and table_sha256 (first 12 hex digits), wall_s (metadata start to end), parameter, truth, median, lower68, upper68,
covered, r_hat. A run already in the CSV (same n, seed, microlensing, settings, table_version) is skipped.
"""
import argparse, csv, datetime, glob, json, math, os, sys

DEFAULT_CSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results', 'infer-recovery.csv')
FIELDS = ['n', 'seed', 'microlensing', 'commit', 'settings', 'table_version', 'table_sha256', 'wall_s',
          'parameter', 'truth', 'median', 'lower68', 'upper68', 'covered', 'r_hat']
# infer.yaml keys that change a run's answer (the mock, stage 1, stage 2); the work paths and table path do not.
SETTING_KEYS = ['mock_lenses', 'microlensing', 'selection_axes', 'selection_draws', 'selection_file', 'interim_alpha',
                'lens_warmup', 'lens_draws', 'lens_max_tree_depth', 'lens_coordinates', 'alpha_marginal', 'chains',
                'warmup', 'draws', 'refine_rounds', 'monte_carlo_target', 'true_alpha_sps']


def yaml_values(path):
    """The flat `key: value` lines of an infer.yaml (what infer_recovery.sh writes; no nesting)."""
    out = {}
    for line in open(path):
        if ':' in line and not line.lstrip().startswith('#'):
            k, v = line.split(':', 1)
            out[k.strip()] = v.strip()
    return out


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))


def add(work, csv_path, commit):
    rows = list(csv.DictReader(open(csv_path))) if os.path.exists(csv_path) else []
    have = {(r['n'], r['seed'], r['microlensing'], r['settings'], r['table_version']) for r in rows}
    added = 0
    for summary in sorted(glob.glob(os.path.join(work, 'n*-seed*-ml*', 'run', 'summary.json'))):
        run = os.path.dirname(summary)
        tag = os.path.basename(os.path.dirname(run))
        n, rest = tag[1:].split('-seed')
        seed, micro = rest.split('-ml')
        config = yaml_values(os.path.join(os.path.dirname(run), 'infer.yaml'))
        settings = ';'.join(f'{k}={config[k]}' for k in SETTING_KEYS if k in config)
        meta = json.load(open(os.path.join(run, 'metadata.json')))
        version = meta.get('table_version')
        if not version:
            sys.exit(f'{run}: metadata.json has no table_version')
        if (n, seed, micro, settings, version) in have:
            continue
        run_commit = meta.get('git_commit') or commit
        if not run_commit:
            sys.exit(f'{run}: metadata.json has no git_commit (a copied binary); pass --commit SHA')
        # The magnification table by the infer.yaml's `table:` path (a selection_file is an .h5 input too); metadata
        # records it absolute, infer.yaml may give it relative to where the run was started.
        wanted = os.path.normpath(config.get('table', '?'))
        table = next((i for i in meta.get('inputs', []) if os.path.normpath(i['path']).endswith(wanted)), None)
        if table is None:
            sys.exit(f"{run}: metadata.json lists no input at the infer.yaml's table path {config.get('table')!r}")
        wall = ''
        if meta.get('start_time') and meta.get('end_time'):
            wall = f"{(parse_time(meta['end_time']) - parse_time(meta['start_time'])).total_seconds():.0f}"
        for p in json.load(open(summary))['parameters']:
            rows.append({'n': n, 'seed': seed, 'microlensing': micro, 'commit': run_commit[:12], 'settings': settings,
                         'table_version': version, 'table_sha256': table['sha256'][:12], 'wall_s': wall, 'parameter': p['name'],
                         'truth': f"{p['truth']:.6g}", 'median': f"{p['median']:.6g}", 'lower68': f"{p['lower68']:.6g}",
                         'upper68': f"{p['upper68']:.6g}", 'covered': int(bool(p['covered'])), 'r_hat': f"{p['rHat']:.4f}"})
        have.add((n, seed, micro, settings, version))
        added += 1
    os.makedirs(os.path.dirname(csv_path), exist_ok=True)
    with open(csv_path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    print(f'{csv_path}: added {added} runs ({len(rows)} rows)')


def summary(csv_path):
    rows = list(csv.DictReader(open(csv_path)))
    groups = {}
    for r in rows:
        groups.setdefault((r['table_version'], r['settings'], int(r['n']), r['microlensing']), []).append(r)
    for k, (version, settings, n, micro) in enumerate(sorted(groups)):
        sel = groups[(version, settings, n, micro)]
        seeds = sorted({int(r['seed']) for r in sel})
        print(f'[{k}] table {version}, N={n} microlensing={micro}: {len(seeds)} mocks (seeds {seeds[0]}-{seeds[-1]}), commits '
              f"{sorted({r['commit'] for r in sel})}\n    settings {settings}")
        for name in sorted({r['parameter'] for r in sel}):
            pr = [r for r in sel if r['parameter'] == name]
            cov = sum(int(r['covered']) for r in pr) / len(pr)
            err = math.sqrt(cov * (1 - cov) / len(pr)) if 0 < cov < 1 else 0.5 / len(pr)
            half = [(float(r['upper68']) - float(r['lower68'])) / 2 for r in pr]
            off = [(float(r['median']) - float(r['truth'])) / h for r, h in zip(pr, half) if h > 0]
            rms = math.sqrt(sum(o * o for o in off) / len(off)) if off else float('nan')
            print(f'    {name:20s} 68% coverage {cov:.2f} ± {err:.2f} ({len(pr)} runs), mean 68% width '
                  f'{2 * sum(half) / len(half):.4f}, offset/half-width mean {sum(off) / len(off):+.2f} rms {rms:.2f}')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='what', required=True)
    a = sub.add_parser('add')
    a.add_argument('work')
    a.add_argument('--commit', help='the commit the binary was built from, where metadata.json has none')
    a.add_argument('--csv', default=DEFAULT_CSV)
    s = sub.add_parser('summary')
    s.add_argument('--csv', default=DEFAULT_CSV)
    args = ap.parse_args()
    add(args.work, args.csv, args.commit) if args.what == 'add' else summary(args.csv)
