/**
 * The GraphQL operations of the two views, built for what the caller may read.
 *
 * One view is one operation: the Download button exports exactly the operation on screen.
 * Fields the caller's role cannot read (Viewer.readableFields) are left out of the document,
 * so they are hidden rather than answered with FORBIDDEN errors.
 *
 * Example: overviewView(access, filters) for a role without Workspace.estimatedAdRevenue is
 * a `query DataOverview(...)` whose workspace selection has no estimatedAdRevenue.
 */

/** The data overview cards (seed "Data overview"), in display order. */
export const OVERVIEW_CARDS = [
  {field: 'activeUsers', label: 'Active users', unit: 'users'},
  {field: 'newUsers', label: 'New users', unit: 'users'},
  {field: 'launches', label: 'Launches', unit: 'events'},
  {field: 'averageTimePerUser', label: 'Time per user', unit: 'seconds'},
  {field: 'validAdImpressions', label: 'Valid ad impressions', unit: 'events'},
  {field: 'estimatedAdRevenue', label: 'Estimated ad revenue', unit: 'usd'},
];

/** The four performance cards of a target app (seed "Dashboard"); clicking one charts it. */
export const PERFORMANCE_CARDS = [
  {field: 'activeUsers', label: 'Unique visitors', unit: 'users'},
  {field: 'pageViews', label: 'Page views', unit: 'events'},
  {field: 'newUsers', label: 'New visitors', unit: 'users'},
  {field: 'lifetimeUsers', label: 'Lifetime visitors', unit: 'users'},
];

/** The four breakdowns of a target app, with the arguments each field takes. */
export const BREAKDOWNS = [
  {field: 'miniProgramsBySource', label: 'Mini programs by source', total: 'Cumulative mini programs',
    item: 'Source', unit: 'Mini programs', args: 'timeRange: $range, type: $type, category: $category'},
  {field: 'usersBySource', label: 'Users by source', total: 'Cumulative users', item: 'Source',
    unit: 'Users', args: 'timeRange: $range, type: $type, dataType: $dataType, category: $category'},
  {field: 'miniProgramsByCategory', label: 'Mini programs by category',
    total: 'Cumulative mini programs', item: 'Category', unit: 'Mini programs',
    args: 'timeRange: $range, type: $type'},
  {field: 'usersByCategory', label: 'Users by category', total: 'Cumulative users',
    item: 'Category', unit: 'Users', args: 'timeRange: $range, type: $type, dataType: $dataType'},
];

/** The deployment status groups of TargetApp.miniProgramStatusCounts. */
export const STATUS_COUNTS = [
  {field: 'all', label: 'All'},
  {field: 'fullRelease', label: 'Full release'},
  {field: 'grayscaleRelease', label: 'Grayscale release'},
  {field: 'reviewing', label: 'Reviewing'},
  {field: 'developing', label: 'Developing'},
  {field: 'inactive', label: 'Inactive'},
];

const FRAGMENTS = {
  MerchantCountFields: 'fragment MerchantCountFields on MerchantCounts {\n'
    + '  all { ...MetricFields }\n  technical { ...MetricFields }\n  nonTechnical { ...MetricFields }\n}',
  BreakdownFields: 'fragment BreakdownFields on Breakdown {\n  total\n  previousTotal\n'
    + '  items { key count share previousCount previousShare countChange shareChange }\n}',
  MetricFields: 'fragment MetricFields on Metric {\n  value\n  previousValue\n  change\n  changeRate\n}',
};

const VARIABLE_TYPES = {
  workspace: 'ID!', app: 'ID!', range: 'TimeRangeInput!', month: 'String!',
  type: 'MiniProgramTypeFilter!', dataType: 'DataType!', category: 'String',
  order: 'TargetAppOrder!',
};

/** What the caller may read: schema coordinates from Viewer.readableFields. */
export class Access {
  /** @param {string[]} readableFields */
  constructor(readableFields) {
    this.fields = new Set(readableFields);
  }

  /** @returns {boolean} True when `Type.field` is readable by one of the caller's grants. */
  can(type, field) {
    return this.fields.has(`${type}.${field}`);
  }
}

/**
 * An operation whose variables and fragments are exactly those its selection uses (GraphQL
 * rejects unused ones).
 */
function operation(name, selection, values) {
  const used = Object.keys(VARIABLE_TYPES).filter((v) => new RegExp(`\\$${v}\\b`).test(selection));
  const declared = used.map((v) => `$${v}: ${VARIABLE_TYPES[v]}`).join(', ');
  const fragments = [];
  let text = selection;
  for (const [fragment, body] of Object.entries(FRAGMENTS)) {
    if (text.includes(`...${fragment}`)) {
      fragments.push(body);
      text += body;
    }
  }
  const query = [`query ${name}${declared ? `(${declared})` : ''} {`, selection, '}', ...fragments]
    .join('\n');
  return {query, variables: Object.fromEntries(used.map((v) => [v, values[v]])), operationName: name};
}

/** When the numbers were computed: every view says it (and so does its spreadsheet). */
const SNAPSHOT = '  snapshot { takenAt nextRefreshAt }';

const EVENT_ARGS = 'timeRange: $range, type: $type, dataType: $dataType';

/** The time range variable of the filters. */
export function timeRange(filters) {
  return filters.range === 'CUSTOM' ? {from: filters.from, to: filters.to} : {preset: filters.range};
}

function targetApps(access) {
  if (!access.can('Workspace', 'targetApps')) return '';
  const users = access.can('TargetApp', 'activeUsers');
  const count = access.can('TargetApp', 'miniProgramCount');
  const ranked = users || count ? ', orderBy: $order, timeRange: $range' : '';
  return [`    targetApps(first: 50${ranked}) {`, '      totalCount', '      nodes {', '        id',
    '        name',
    users && `        activeUsers(${EVENT_ARGS}) { ...MetricFields series { date value } }`,
    count && '        miniProgramCount(timeRange: $range, type: $type) { ...MetricFields }',
    '      }', '    }'].filter(Boolean).join('\n');
}

/**
 * The data overview of a workspace: cards, MAU, mini program counts, merchant onboarding and
 * the target apps ranked by users or mini program count.
 * @param {Access} access
 * @param {Object} filters {workspace, range, from, to, type, dataType, order, month}
 */
export function overviewView(access, filters) {
  const can = (field) => access.can('Workspace', field);
  const lines = ['  workspace(id: $workspace) {', '    id', '    name'];
  for (const card of OVERVIEW_CARDS) {
    if (can(card.field)) lines.push(`    ${card.field}(${EVENT_ARGS}) { ...MetricFields }`);
  }
  if (can('monthlyActiveUsers')) {
    lines.push('    monthlyActiveUsers(from: $month, to: $month, type: $type, dataType: $dataType) '
      + '{ month value previousValue change changeRate }');
  }
  if (can('createdMiniPrograms')) {
    lines.push('    createdMiniPrograms(timeRange: $range, type: $type) { ...MetricFields }');
  }
  if (can('availableMiniPrograms')) lines.push('    availableMiniPrograms(type: $type)');
  if (can('merchantOnboarding')) {
    lines.push('    merchantOnboarding(timeRange: $range) {',
      '      newMerchants { ...MerchantCountFields }', '      totalMerchants { ...MerchantCountFields }',
      '      series { date newTechnical cumulativeTechnical newNonTechnical cumulativeNonTechnical }',
      '    }');
  }
  lines.push(targetApps(access), '  }', SNAPSHOT);
  const values = {...filters, range: timeRange(filters),
    order: {field: filters.order, direction: 'DESC'}};
  return operation('DataOverview', lines.filter(Boolean).join('\n'), values);
}

/**
 * A target app's details page: status counts, the four performance metrics with their daily
 * series, and the four breakdowns.
 * @param {Access} access
 * @param {Object} filters {app, range, from, to, type, dataType, category}
 */
export function appView(access, filters) {
  const can = (field) => access.can('TargetApp', field);
  const category = 'category: $category';
  const lines = ['  targetApp(id: $app) {', '    id', '    name', '    workspace { id name }'];
  if (can('miniProgramStatusCounts')) {
    lines.push(`    miniProgramStatusCounts(type: $type, ${category}) { `
      + `${STATUS_COUNTS.map((s) => s.field).join(' ')} }`);
  }
  for (const card of PERFORMANCE_CARDS) {
    if (can(card.field)) {
      lines.push(`    ${card.field}(${EVENT_ARGS}, ${category}) { ...MetricFields series { date value } }`);
    }
  }
  for (const breakdown of BREAKDOWNS) {
    if (can(breakdown.field)) lines.push(`    ${breakdown.field}(${breakdown.args}) { ...BreakdownFields }`);
  }
  lines.push('  }', SNAPSHOT);
  const values = {...filters, range: timeRange(filters), category: filters.category || null};
  return operation('TargetAppDetails', lines.join('\n'), values);
}
