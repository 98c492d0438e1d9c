# -*- coding: utf-8 -*-
# Copyright: scmp.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall rules planner: the fewest writes that turn PVE's ordered rule list into the desired one.

PVE addresses rules by position only (pve-firewall src/PVE/API2/Firewall/Rules.pm), with these semantics,
which the planner simulates step by step so that every position it sends is right when the call runs:

- POST .../rules creates a rule at the TOP of the list (`unshift @$rules, $rule`; the `pos` parameter the schema
  lists is ignored by create_rule), with enable 0 unless `enable` is given;
- PUT .../rules/{pos} with `moveto` takes the rule out and puts it in front of the rule that was at index
  `moveto` before the move (positions counted before the move), or at the end when `moveto` >= the list's length;
  other parameters are then ignored. Without `moveto` it updates the rule in place (`delete` clears fields);
- DELETE .../rules/{pos} removes the rule at pos.

Rules are matched by content (spec.rule_key): the k-th desired copy of a rule is the k-th existing copy. A rule
that exists but is not wanted and a wanted rule that does not exist are paired in list order and become one
in-place update; the rest are deleted (highest position first, so no position shifts under a later delete) or
created. Then the rules that are already in the right relative order (a longest increasing subsequence of their
desired indexes) stay where they are and each other rule is moved once, in front of its successor among the rules
already in place. So a reorder of n rules takes at most n - 1 moves, a reverse of n rules n - 1, one moved rule
one write; a new rule that belongs at the top takes one write and one anywhere else two (create, then move).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.scmp.iaas.plugins.module_utils.resources.firewall.spec import rule_key


class Step:
    """One write of a rules plan, in terms of the simulated list.

    op: 'delete' (pos), 'update' (pos, rule, old), 'create' (rule, lands at the top) or 'move' (pos, moveto).
    before: the content keys of the list just before this step (what a fresh read must show).
    """

    def __init__(self, op, before, pos=None, moveto=None, rule=None, old=None):
        self.op = op
        self.before = before
        self.pos = pos
        self.moveto = moveto
        self.rule = rule
        self.old = old

    def __repr__(self):
        return 'Step({0}, pos={1}, moveto={2})'.format(self.op, self.pos, self.moveto)


def pve_move(items, pos, moveto):
    """PUT .../rules/{pos} moveto=<moveto> on a list, exactly as Rules.pm update_rule does it."""
    if moveto == pos:
        return list(items)
    moved = []
    for index, item in enumerate(items):
        if index == pos:
            continue
        if index == moveto:
            moved.append(items[pos])
        moved.append(item)
    if moveto >= len(items):
        moved.append(items[pos])
    return moved


def longest_increasing(sequence):
    """The indexes of one longest strictly increasing subsequence of `sequence` (patience sorting, O(n log n))."""
    tails = []
    tail_at = []
    parent = [-1] * len(sequence)
    for index, value in enumerate(sequence):
        low, high = 0, len(tails)
        while low < high:
            middle = (low + high) // 2
            if tails[middle] < value:
                low = middle + 1
            else:
                high = middle
        if low > 0:
            parent[index] = tail_at[low - 1]
        if low == len(tails):
            tails.append(value)
            tail_at.append(index)
        else:
            tails[low] = value
            tail_at[low] = index
    out = []
    index = tail_at[-1] if tail_at else -1
    while index >= 0:
        out.append(index)
        index = parent[index]
    return out[::-1]


def match_by_content(current, desired):
    """({existing index: desired index}, unmatched existing indexes, missing desired indexes)."""
    waiting = {}
    for index, rule in enumerate(current):
        waiting.setdefault(rule_key(rule), []).append(index)
    matched = {}
    missing = []
    for index, rule in enumerate(desired):
        found = waiting.get(rule_key(rule))
        if found:
            matched[found.pop(0)] = index
        else:
            missing.append(index)
    unmatched = [i for i in range(len(current)) if i not in matched]
    return matched, unmatched, missing


def plan_rules(current, desired, exclusive=True, update_in_place=True):
    """The Steps that turn the rule list `current` into `desired` (lists of spec.normal_rule/existing_rule forms).

    exclusive=False only adds the desired rules that are missing (at the top, in their desired order) and leaves
    every other rule, and the order, alone.
    """
    matched, unmatched, missing = match_by_content(current, desired)
    # The simulated list: (desired index or None, rule) per entry.
    items = [(matched.get(i), rule) for i, rule in enumerate(current)]
    steps = []

    def keys():
        return [rule_key(entry[1]) for entry in items]

    if not exclusive:
        for index in reversed(missing):
            steps.append(Step('create', keys(), rule=desired[index]))
            items.insert(0, (index, desired[index]))
        return steps
    pairs = list(zip(unmatched, missing)) if update_in_place else []
    for pos, index in pairs:
        steps.append(Step('update', keys(), pos=pos, rule=desired[index], old=current[pos]))
        items[pos] = (index, desired[index])
    for pos in sorted(unmatched[len(pairs):], reverse=True):
        steps.append(Step('delete', keys(), pos=pos, old=current[pos]))
        del items[pos]
    for index in sorted(missing[len(pairs):], reverse=True):
        steps.append(Step('create', keys(), rule=desired[index]))
        items.insert(0, (index, desired[index]))
    order = [entry[0] for entry in items]
    settled = set(order[i] for i in longest_increasing(order))
    for index in sorted(set(order) - settled):
        order = [entry[0] for entry in items]
        pos = order.index(index)
        before = [order.index(i) for i in settled if i < index]
        after = [order.index(i) for i in settled if i > index]
        low = max(before) if before else -1
        high = min(after) if after else len(order)
        if not low < pos < high:
            moveto = high
            steps.append(Step('move', keys(), pos=pos, moveto=moveto, rule=items[pos][1]))
            items = pve_move(items, pos, moveto)
        settled.add(index)
    if [rule_key(entry[1]) for entry in items] != [rule_key(rule) for rule in desired]:
        raise AssertionError('rules plan does not reach the desired order')  # a bug here, never the user's
    return steps


def apply_steps(current, steps):
    """The rule list after these steps, with PVE's semantics for each write."""
    items = list(current)
    for step in steps:
        if step.op == 'delete':
            del items[step.pos]
        elif step.op == 'update':
            items[step.pos] = step.rule
        elif step.op == 'create':
            items.insert(0, step.rule)
        else:
            items = pve_move(items, step.pos, step.moveto)
    return items


def plan_removal(current, unwanted):
    """The deletes (highest position first) that remove each rule of `unwanted` once, matched by content."""
    waiting = {}
    for rule in unwanted:
        waiting[rule_key(rule)] = waiting.get(rule_key(rule), 0) + 1
    doomed = []
    for pos, rule in enumerate(current):
        if waiting.get(rule_key(rule)):
            waiting[rule_key(rule)] -= 1
            doomed.append(pos)
    items = list(current)
    steps = []
    for pos in reversed(doomed):
        steps.append(Step('delete', [rule_key(r) for r in items], pos=pos, old=current[pos]))
        del items[pos]
    return steps
