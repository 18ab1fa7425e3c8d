/**
 * How numbers, changes and slugs are shown. Every value keeps its raw number in data-value,
 * so tests and scripts can compare with the API without parsing text.
 */

import {h} from './dom.js';

const INTEGER = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});
const SECONDS = new Intl.NumberFormat('en-US', {minimumFractionDigits: 1, maximumFractionDigits: 1});
const USD = new Intl.NumberFormat('en-US', {style: 'currency', currency: 'USD'});
const PERCENT = new Intl.NumberFormat('en-US', {style: 'percent', maximumFractionDigits: 1});
const POINTS = new Intl.NumberFormat('en-US', {maximumFractionDigits: 1, signDisplay: 'always'});

/** Units of the metric fields (SPEC §4), with how a value of each is written. */
export const UNITS = {
  users: (value) => INTEGER.format(value),
  events: (value) => INTEGER.format(value),
  count: (value) => INTEGER.format(value),
  seconds: (value) => `${SECONDS.format(value)} s`,
  usd: (value) => USD.format(value),
};

/**
 * A value in its unit, e.g. formatValue('usd', 12.5) is "$12.50".
 * @param {keyof UNITS} unit
 * @param {number} value
 * @returns {string}
 */
export function formatValue(unit, value) {
  return UNITS[unit](value);
}

/**
 * A share (0..1) as a percentage, e.g. 0.314 is "31.4%".
 * @param {number} share
 * @returns {string}
 */
export function formatShare(share) {
  return PERCENT.format(share);
}

function direction(change) {
  if (change > 0) return {name: 'up', arrow: '▲', words: 'up'};
  if (change < 0) return {name: 'down', arrow: '▼', words: 'down'};
  return {name: 'flat', arrow: '▬', words: 'unchanged'};
}

/**
 * The change arrow of a Metric compared with the previous period: the rate when there is one
 * (changeRate is null when the previous value was 0), else the absolute change.
 * @param {{change: number, changeRate: ?number}} metric
 * @param {keyof UNITS} unit
 * @returns {HTMLElement}
 */
export function changeBadge(metric, unit) {
  const {change, changeRate} = metric;
  const way = direction(change);
  const amount = changeRate === null || changeRate === undefined
    ? `${change > 0 ? '+' : ''}${formatValue(unit, change)}`
    : PERCENT.format(Math.abs(changeRate));
  const label = change === 0
    ? 'unchanged from the previous period'
    : `${way.words} ${amount.replace(/^\+/, '')} from the previous period`;
  return h('span', {class: `change ${way.name}`, 'aria-label': label, title: label,
    dataset: {change: String(change)}},
  h('span', {'aria-hidden': 'true'}, `${way.arrow} ${change === 0 ? '0' : amount.replace(/^[+-]/, '')}`));
}

/**
 * A change in a count or in share points, with its arrow (for breakdown rows).
 * @param {number} change
 * @param {'count'|'points'} kind count: an integer; points: a share change (0.05 = 5 pts).
 * @returns {HTMLElement}
 */
export function deltaBadge(change, kind) {
  const way = direction(change);
  const text = kind === 'points' ? `${POINTS.format(change * 100)} pts` : POINTS.format(change);
  const label = `${way.words} ${text.replace(/^[+-]/, '')} from the previous period`;
  return h('span', {class: `change ${way.name}`, 'aria-label': label, title: label},
    h('span', {'aria-hidden': 'true'}, `${way.arrow} ${text.replace(/^[+-]/, '')}`));
}

/**
 * A slug as words, e.g. "food_beverage" is "Food beverage".
 * @param {string} slug
 * @returns {string}
 */
export function slugLabel(slug) {
  const words = slug.replace(/[_-]+/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : slug;
}

const PLATFORMS = {IOS: 'iOS', ANDROID: 'Android', HARMONYOS: 'HarmonyOS', WEB: 'Web',
  WINDOWS: 'Windows', MACOS: 'macOS', OTHER: 'Other', UNKNOWN: 'Unknown'};
const REGIONS = new Intl.DisplayNames(['en'], {type: 'region', fallback: 'code'});

/**
 * A platform of usersByPlatform as its name, e.g. "IOS" is "iOS".
 * @param {string} key
 * @returns {string}
 */
export function platformLabel(key) {
  return PLATFORMS[key] ?? key;
}

/**
 * A region of usersByRegion (ISO 3166-1 alpha-2) as the country's name with its code, e.g.
 * "DE" is "Germany (DE)"; UNKNOWN (launches sent without one) is "Unknown".
 * @param {string} key
 * @returns {string}
 */
export function regionLabel(key) {
  if (key === 'UNKNOWN') return 'Unknown';
  let name = key;
  try {
    name = REGIONS.of(key);
  } catch {
    return key;
  }
  return name === key ? key : `${name} (${key})`;
}

/**
 * An enum value or slug as words, "—" when null, e.g. "FULL_RELEASE" is "Full release".
 * @param {?string} value
 * @returns {string}
 */
export function enumLabel(value) {
  return value ? slugLabel(value.toLowerCase()) : '—';
}
