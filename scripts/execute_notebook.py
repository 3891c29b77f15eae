#!/usr/bin/env python3
"""Execute one notebook headless and save it, even when a cell fails.

Uses nbclient, the engine behind `jupyter nbconvert --to notebook --execute`. The nbconvert CLI is
not used for execution because on a failing cell it neither writes the partly executed notebook nor
reports tslab's error text (tslab prints compile/runtime errors on the cell's stderr and returns an
execute_reply with an empty ename/evalue), so the reproduce script could not name the error.

Prints one JSON object on stdout:
  {"ok": bool, "cells": n, "seconds": t,
   "failure": null | {"cell": index (0-based, all cells), "codeCell": k (1-based among code cells),
                      "source": str, "error": str, "kind": "error"|"timeout"|"dead-kernel"|"other"}}
Progress (one line per code cell) goes to stderr.
"""
import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def cell_error_text(cell, reply_content):
    """tslab reports errors on the cell's stderr; Python-like kernels in ename/evalue/traceback."""
    parts = []
    for out in cell.get('outputs', []):
        if out.get('output_type') == 'stream' and out.get('name') == 'stderr':
            parts.append(out.get('text', ''))
        elif out.get('output_type') == 'error':
            parts.append('%s: %s' % (out.get('ename', ''), out.get('evalue', '')))
    if reply_content:
        ename, evalue = reply_content.get('ename') or '', reply_content.get('evalue') or ''
        if ename or evalue:
            parts.append('%s: %s' % (ename, evalue))
    text = '\n'.join(p.strip() for p in parts if p and p.strip())
    return text or '(the kernel reported an error without a message)'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebook')
    ap.add_argument('output')
    ap.add_argument('--kernel', default='tslab')
    ap.add_argument('--timeout', type=float, default=3600, help='seconds per cell; <= 0 for none')
    ap.add_argument('--startup-timeout', type=float, default=120)
    ap.add_argument('--cwd', help='kernel working directory (default: the notebook\'s folder)')
    ap.add_argument('--label', default=None)
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    cwd = args.cwd or os.path.dirname(os.path.abspath(args.notebook))
    label = args.label or os.path.basename(args.notebook)
    code_index = {}  # cell index -> 1-based position among code cells
    for i, c in enumerate(nb.cells):
        if c.cell_type == 'code':
            code_index[i] = len(code_index) + 1
    n_code = len(code_index)
    state = {'current': None, 'started': 0.0, 'reply': None}

    def on_cell_start(cell, cell_index):
        if cell_index not in code_index:
            return  # nbclient calls this for markdown cells too
        state['current'] = cell_index
        state['started'] = time.time()
        print('[%s] cell %d/%d ...' % (label, code_index.get(cell_index, 0), n_code),
              file=sys.stderr, flush=True)

    def on_cell_executed(cell, cell_index, execute_reply):
        # (on_cell_complete fires when the request is sent, not when the reply arrives)
        print('[%s] cell %d/%d done in %.1fs' % (label, code_index.get(cell_index, 0), n_code,
                                                 time.time() - state['started']),
              file=sys.stderr, flush=True)

    def on_cell_error(cell, cell_index, execute_reply):
        state['reply'] = (execute_reply or {}).get('content', {})

    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=None if args.timeout <= 0 else int(args.timeout),
        startup_timeout=int(args.startup_timeout),
        allow_errors=False,
        record_timing=True,
        resources={'metadata': {'path': cwd}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
        on_cell_error=on_cell_error,
    )
    t0 = time.time()
    failure = None
    try:
        client.execute()
    except BaseException as e:  # noqa: B902 - every failure must be reported as JSON
        idx = state['current']
        cell = nb.cells[idx] if idx is not None else {}
        if isinstance(e, CellTimeoutError):
            kind, msg = 'timeout', 'cell timed out after %s s (raise --cell-timeout)' % args.timeout
        elif isinstance(e, DeadKernelError):
            kind, msg = 'dead-kernel', 'the kernel died: %s' % e
        elif isinstance(e, CellExecutionError):
            kind, msg = 'error', cell_error_text(cell, state['reply'])
        else:
            kind, msg = 'other', '%s: %s' % (type(e).__name__, e)
        failure = {
            'cell': idx,
            'codeCell': code_index.get(idx) if idx is not None else None,
            'source': cell.get('source', '') if idx is not None else '',
            'error': msg,
            'kind': kind,
        }
        if isinstance(e, KeyboardInterrupt):
            raise
    finally:
        nbformat.write(nb, args.output)
    print(json.dumps({'ok': failure is None, 'cells': n_code, 'seconds': round(time.time() - t0, 2),
                      'failure': failure}))


if __name__ == '__main__':
    main()
