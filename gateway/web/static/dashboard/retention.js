/**
 * The retention table, one component for the three levels (workspace, target app, mini
 * program): a row per cohort (its start and size), a column per period after it, each cell
 * the share of the cohort back in that period, shaded by that share, with its users in the
 * cell's title. A period not started yet is a dash. Switches choose who a cohort holds and
 * the granularity; a switch asks the view's operation again with the new arguments (one view,
 * one operation: Download exports the table on screen).
 */

import {h, radioGroup, section, table} from './dom.js';
import {formatShare, formatValue} from './format.js';
import {RETENTION_COHORTS, RETENTION_GRANULARITIES} from './queries.js';

/** The shade of a cell of rate 1 (the accent colour); a cell's alpha is proportional to its rate. */
const SHADE = '37 99 235';
const DARK_TEXT_UNTIL = 0.55;

function periodCell(period, cohort, granularity) {
  const what = `${granularity.label} ${period.offset} (from ${period.start})`;
  if (period.users === null) {
    return h('td', {class: 'rate future', title: `${what}: not started yet`}, '—');
  }
  if (period.rate === null) {
    return h('td', {class: 'rate', dataset: {users: String(period.users)},
      title: `${what}: the cohort is empty`}, '—');
  }
  const alpha = 0.85 * period.rate;
  const ink = alpha > DARK_TEXT_UNTIL ? '; color: #fff' : '';
  const sofar = period.complete ? '' : ' so far (the period is not over)';
  return h('td', {class: `rate${period.complete ? '' : ' partial'}`,
    style: `background: rgb(${SHADE} / ${alpha.toFixed(3)})${ink}`,
    dataset: {rate: String(period.rate), users: String(period.users)},
    title: `${what}: ${formatValue('users', period.users)} of ${formatValue('users', cohort.size)} `
      + `users${sofar}`}, formatShare(period.rate));
}

function cohortRow(cohort, granularity) {
  return h('tr', {dataset: {start: cohort.start}},
    h('th', {scope: 'row'}, cohort.start),
    h('td', {}, h('span', {class: 'num', dataset: {value: String(cohort.size)}},
      formatValue('users', cohort.size))),
    cohort.periods.map((period) => periodCell(period, cohort, granularity)));
}

/**
 * The retention section.
 * @param {Object} retention A Retention answer (granularity, cohortKind, cohorts).
 * @param {{granularity: string, cohort: string}} filters The switches' current values.
 * @param {Function} onChange Called with ('granularity' | 'cohort', value) when one is switched.
 * @returns {HTMLElement}
 */
export function retentionSection(retention, filters, onChange) {
  const granularity = RETENTION_GRANULARITIES.find((g) => g.value === retention.granularity);
  const kind = RETENTION_COHORTS.find((c) => c.value === retention.cohortKind);
  const switches = h('div', {class: 'switches'},
    radioGroup('Cohorts of', 'retention-cohort', RETENTION_COHORTS.map((c) => [c.value, c.label]),
      filters.cohort, (value) => onChange('cohort', value)),
    radioGroup('By', 'retention-granularity', RETENTION_GRANULARITIES.map((g) => [g.value, g.label]),
      filters.granularity, (value) => onChange('granularity', value)));
  const note = h('p', {class: 'hint'}, `${kind.label}: ${kind.note}; ${granularity.note}. `
    + `A cell is the share of its cohort with a launch in the ${granularity.label.toLowerCase()} `
    + 'that many after (hover for users); italic: still in progress; —: not started.');
  const periods = retention.cohorts[0]?.periods.length ?? 0;
  const headers = ['Cohort', 'Users',
    ...Array.from({length: periods}, (_, i) => `${granularity.label} ${i + 1}`)];
  const body = retention.cohorts.length
    ? table(`Retention of ${kind.label.toLowerCase()} by ${granularity.label.toLowerCase()}`, headers,
      retention.cohorts.map((cohort) => cohortRow(cohort, granularity)), {class: 'retention'})
    : h('p', {class: 'empty'}, 'No cohorts in this range.');
  return section('retention', 'Retention', switches, note, body);
}
