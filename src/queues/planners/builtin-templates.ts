/**
 * The built-in plan templates: realistic DAGs over capabilities for the usual kinds of goal.
 * `{goal}` in a title or description is replaced by the goal's text.
 */
import type { TaskSpec } from '../../entities/task-model';

export interface PlanTemplate {
  name: string;
  /** Lower-case words or phrases; a goal containing one picks this template. */
  match: string[];
  tasks: TaskSpec[];
}

const t = (
  key: string,
  title: string,
  type: string,
  dependsOn: string[],
  priority = 5,
): TaskSpec => ({
  key,
  title,
  description: `${title} for: {goal}`,
  type,
  dependsOn,
  priority,
});

export const BUILTIN_TEMPLATES: readonly PlanTemplate[] = [
  {
    name: 'bugfix',
    match: ['fix', 'bug', 'crash', 'broken', 'error', 'regression'],
    tasks: [
      t('reproduce', 'Reproduce the bug', 'testing', [], 9),
      t('diagnose', 'Find the root cause', 'development', ['reproduce'], 8),
      t('fix', 'Fix the cause', 'development', ['diagnose'], 8),
      t('regression-test', 'Add a regression test', 'testing', ['diagnose'], 7),
      t('verify', 'Verify the fix against the test', 'testing', ['fix', 'regression-test'], 7),
      t('review', 'Review the change', 'review', ['verify'], 6),
    ],
  },
  {
    name: 'research',
    match: ['research', 'investigate', 'evaluate', 'compare', 'study', 'explore'],
    tasks: [
      t('scope', 'Define the questions', 'research', [], 8),
      t('sources', 'Collect sources', 'research', ['scope'], 7),
      t('experiments', 'Run small experiments', 'development', ['scope'], 6),
      t('analysis', 'Analyse the findings', 'research', ['sources', 'experiments'], 6),
      t('report', 'Write the report', 'documentation', ['analysis'], 5),
    ],
  },
  {
    name: 'refactor',
    match: ['refactor', 'clean up', 'cleanup', 'restructure', 'simplify', 'migrate'],
    tasks: [
      t('survey', 'Survey the code and its tests', 'development', [], 8),
      t('safety-net', 'Add characterisation tests', 'testing', ['survey'], 7),
      t('restructure', 'Restructure the code', 'development', ['survey', 'safety-net'], 6),
      t('verify', 'Run the full test suite', 'testing', ['restructure'], 6),
      t('review', 'Review the change', 'review', ['verify'], 5),
    ],
  },
  {
    name: 'docs',
    match: ['document', 'documentation', 'docs', 'readme', 'guide', 'tutorial'],
    tasks: [
      t('outline', 'Outline the documentation', 'documentation', [], 7),
      t('examples', 'Write working examples', 'development', ['outline'], 6),
      t('write', 'Write the pages', 'documentation', ['outline'], 6),
      t('review', 'Review for accuracy', 'review', ['write', 'examples'], 5),
    ],
  },
  {
    name: 'feature',
    match: ['build', 'implement', 'add', 'create', 'feature', 'support', 'develop'],
    tasks: [
      t('design', 'Design the feature', 'design', [], 8),
      t('backend', 'Implement the backend', 'backend', ['design'], 7),
      t('frontend', 'Implement the frontend', 'frontend', ['design'], 7),
      t('integration-tests', 'Write integration tests', 'testing', ['backend', 'frontend'], 6),
      t('review', 'Review the change', 'review', ['integration-tests'], 5),
      t('docs', 'Document the feature', 'documentation', ['integration-tests'], 4),
    ],
  },
  {
    name: 'generic',
    match: [],
    tasks: [
      t('plan', 'Plan the work', 'planning', [], 7),
      t('execute', 'Do the work', 'development', ['plan'], 6),
      t('verify', 'Verify the result', 'testing', ['execute'], 5),
      t('review', 'Review the result', 'review', ['verify'], 4),
    ],
  },
];
