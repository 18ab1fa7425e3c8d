/**
 * The GraphQL operations of the three views, built for what the caller may read.
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

/** The audience portrait (SPEC "Audience"): `dimension` names the keys' kind. */
export const PORTRAIT = [
  {field: 'usersByPlatform', label: 'Users by platform', total: 'Active users', item: 'Platform',
    unit: 'Users', dimension: 'platform'},
  {field: 'usersByRegion', label: 'Users by region', total: 'Active users', item: 'Region',
    unit: 'Users', dimension: 'region'},
];

/** The portrait fields the caller may read, with the level's arguments `args`. */
function portrait(can, args) {
  return PORTRAIT.filter((spec) => can(spec.field))
    .map((spec) => `    ${spec.field}(${args}) { ...BreakdownFields }`);
}

/** Who a retention cohort holds (RetentionCohortKind). */
export const RETENTION_COHORTS = [
  {value: 'NEW_USERS', label: 'New users', note: 'users whose first launch falls in the cohort\'s bucket'},
  {value: 'ACTIVE_USERS', label: 'Active users', note: 'users with a launch in the cohort\'s bucket'},
];

/**
 * Retention granularities: how many periods, and which cohorts (`days`: the cohort range is
 * that many days ending with the selected range; none: the selected range itself, its last
 * MAX_DAY_COHORTS days at most). Within the API's limits (periods at most 30 for DAY, 12 for
 * WEEK and MONTH; a range at most 90 days) and its query cost (a table costs a point per cell:
 * the overview of a 90-day range has room for 30 x 7 daily cells, not 90 x 7).
 */
export const RETENTION_GRANULARITIES = [
  {value: 'DAY', label: 'Day', periods: 7,
    note: 'one cohort per day of the selected range (of its last 30 days at most)'},
  {value: 'WEEK', label: 'Week', periods: 8, days: 56,
    note: 'one cohort per ISO week of the 8 weeks ending with the selected range'},
  {value: 'MONTH', label: 'Month', periods: 3, days: 90,
    note: 'one cohort per calendar month of the 90 days ending with the selected range'},
];

/** The columns of a mini program's top pages (`order`: its PageOrderField, if sortable). */
export const PAGE_COLUMNS = [
  {field: 'path', label: 'Page', order: 'PATH'},
  {field: 'pageViews', label: 'Page views', unit: 'events', order: 'PAGE_VIEWS'},
  {field: 'visitors', label: 'Visitors', unit: 'users', order: 'VISITORS'},
  {field: 'totalTimeSeconds', label: 'Total time', unit: 'seconds', order: 'TOTAL_TIME'},
  {field: 'averageTimePerVisitor', label: 'Time per visitor', unit: 'seconds'},
];

/** How many top pages the mini program page lists. */
export const TOP_PAGES = 20;

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
  RetentionFields: 'fragment RetentionFields on Retention {\n  granularity\n  cohortKind\n'
    + '  cohorts { start size periods { offset start users rate complete } }\n}',
};

const VARIABLE_TYPES = {
  workspace: 'ID!', app: 'ID!', range: 'TimeRangeInput!', month: 'String!',
  type: 'MiniProgramTypeFilter!', dataType: 'DataType!', category: 'String',
  order: 'TargetAppOrder!', program: 'ID!', cohorts: 'TimeRangeInput!',
  granularity: 'Granularity!', periods: 'Int!', cohort: 'RetentionCohortKind!',
  pageOrder: 'PageOrder!',
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

/**
 * The live form of a view's query: `subscription Name(...) { live { <the query's selection> } }`,
 * answered at once and again after each snapshot that changes the answer (Subscription.live).
 * Its name, variables and fragments are the query's, so Download still exports the query.
 *
 * Example: 'query DataOverview($workspace: ID!) {\n  workspace(id: $workspace) { id }\n}' is
 * 'subscription DataOverview($workspace: ID!) {\n  live {\n    workspace(id: $workspace) { id }\n  }\n}'.
 * @param {{query: string, variables: Object, operationName: string}} view From operation().
 * @returns {{query: string, variables: Object, operationName: string}}
 */
export function liveOperation(view) {
  const lines = view.query.split('\n');
  // operation() writes the header alone on the first line and the operation's closing brace
  // alone on a line: its selection is indented, the fragments come after it.
  const end = lines.indexOf('}');
  const [header, ...selection] = lines.slice(0, end);
  const query = [header.replace(/^query /, 'subscription '), '  live {',
    ...selection.map((line) => `  ${line}`), '  }', ...lines.slice(end)].join('\n');
  return {...view, query};
}

/** When the numbers were computed: every view says it (and so does its spreadsheet). */
const SNAPSHOT = '  snapshot { takenAt nextRefreshAt }';

const FILTER_ARGS = 'type: $type, dataType: $dataType';
const EVENT_ARGS = `timeRange: $range, ${FILTER_ARGS}`;

/** The time range variable of the filters. */
export function timeRange(filters) {
  return filters.range === 'CUSTOM' ? {from: filters.from, to: filters.to} : {preset: filters.range};
}

/** The UTC date `daysAgo` days before now, as YYYY-MM-DD. */
export const isoDay = (daysAgo) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

/** The last day of the filters' range (UTC): the other presets than TODAY end yesterday. */
export function rangeEnd(filters) {
  if (filters.range === 'CUSTOM') return filters.to;
  return isoDay(filters.range === 'TODAY' ? 0 : 1);
}

/** A `retention` selection with the level's filter arguments `args`. */
function retention(args) {
  return '    retention(cohorts: $cohorts, granularity: $granularity, periods: $periods, '
    + `cohort: $cohort, ${args}) { ...RetentionFields }`;
}

/** The most daily cohorts a retention table has (the presets span 30 days at most). */
const MAX_DAY_COHORTS = 30;

/** The retention variables of the filters' granularity and cohort kind. */
function retentionValues(filters) {
  const shape = RETENTION_GRANULARITIES.find((g) => g.value === filters.granularity);
  const span = filters.range === 'CUSTOM'
    ? (Date.parse(filters.to) - Date.parse(filters.from)) / 86_400_000 + 1 : 0;
  const days = shape.days ?? (span > MAX_DAY_COHORTS ? MAX_DAY_COHORTS : null);
  const cohorts = days ? {days, endDate: rangeEnd(filters)} : timeRange(filters);
  return {cohorts, granularity: shape.value, periods: shape.periods, cohort: filters.cohort};
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
 * The data overview of a workspace: cards, MAU, mini program counts, retention, the portrait,
 * merchant onboarding and the target apps ranked by users or mini program count.
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
  if (can('retention')) lines.push(retention(FILTER_ARGS));
  lines.push(...portrait(can, EVENT_ARGS));
  if (can('merchantOnboarding')) {
    lines.push('    merchantOnboarding(timeRange: $range) {',
      '      newMerchants { ...MerchantCountFields }', '      totalMerchants { ...MerchantCountFields }',
      '      series { date newTechnical cumulativeTechnical newNonTechnical cumulativeNonTechnical }',
      '    }');
  }
  lines.push(targetApps(access), '  }', SNAPSHOT);
  const values = {...filters, ...retentionValues(filters), range: timeRange(filters),
    order: {field: filters.order, direction: 'DESC'}};
  return operation('DataOverview', lines.filter(Boolean).join('\n'), values);
}

/** The performance cards of a target app or a mini program, with their daily series. */
function performance(can, args) {
  return PERFORMANCE_CARDS.filter((card) => can(card.field))
    .map((card) => `    ${card.field}(${args}) { ...MetricFields series { date value } }`);
}

/** A target app's mini programs (the catalog), with their users when readable. */
function miniPrograms(access) {
  if (!access.can('TargetApp', 'miniPrograms')) return [];
  const users = access.can('MiniProgram', 'activeUsers')
    && '        activeUsers(timeRange: $range, dataType: $dataType) { ...MetricFields }';
  return ['    miniPrograms(first: 50, type: $type, category: $category) {', '      totalCount',
    '      nodes {', '        id', '        name', '        type', '        category', '        status',
    users, '      }', '    }'].filter(Boolean);
}

/**
 * A target app's details page: status counts, the four performance metrics with their daily
 * series, retention, the four breakdowns and the portrait, and the app's mini programs.
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
  lines.push(...performance(can, `${EVENT_ARGS}, ${category}`));
  if (can('retention')) lines.push(retention(`${FILTER_ARGS}, ${category}`));
  for (const breakdown of BREAKDOWNS) {
    if (can(breakdown.field)) lines.push(`    ${breakdown.field}(${breakdown.args}) { ...BreakdownFields }`);
  }
  lines.push(...portrait(can, `${EVENT_ARGS}, ${category}`));
  lines.push(...miniPrograms(access), '  }', SNAPSHOT);
  const values = {...filters, ...retentionValues(filters), range: timeRange(filters),
    category: filters.category || null};
  return operation('TargetAppDetails', lines.join('\n'), values);
}

/**
 * A mini program's page, reached through its target app (so every number is the app's):
 * the four performance metrics, retention, the portrait and the top pages. The type and category filters
 * do not apply (the page is one mini program).
 * @param {Access} access
 * @param {Object} filters {app, program, range, from, to, dataType, granularity, cohort,
 *   pageOrder}
 */
export function miniProgramView(access, filters) {
  const can = (field) => access.can('MiniProgram', field);
  const fields = ['    id', '    name', '    type', '    category', '    status',
    ...performance(can, 'timeRange: $range, dataType: $dataType')];
  if (can('retention')) fields.push(retention('dataType: $dataType'));
  fields.push(...portrait(can, 'timeRange: $range, dataType: $dataType'));
  if (can('pages')) {
    fields.push(`    pages(timeRange: $range, dataType: $dataType, orderBy: $pageOrder, first: ${TOP_PAGES}) {`,
      '      totalCount', `      nodes { ${PAGE_COLUMNS.map((c) => c.field).join(' ')} }`, '    }');
  }
  const lines = ['  targetApp(id: $app) {', '    id', '    name', '    workspace { id name }',
    '    miniProgram(id: $program) {', ...fields.map((line) => `  ${line}`), '    }', '  }', SNAPSHOT];
  const values = {...filters, ...retentionValues(filters), range: timeRange(filters)};
  return operation('MiniProgramDetails', lines.join('\n'), values);
}
