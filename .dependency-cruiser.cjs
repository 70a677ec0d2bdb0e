/**
 * The walls between the packages, checked by `npm test` (scripts/check-deps.mjs runs dependency-cruiser).
 *
 *   domain  <-  store  <-  server        web  <-  domain        patient-web  <-  domain
 *
 * domain is pure and imports nothing of ours; store imports only domain; server may import both;
 * web (the browser app) imports only domain. A package reaches another only through its name
 * (@steadfast/x, as its package.json "exports" allow), never through a relative path into its src.
 * No import cycles.
 */

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'An import cycle means two modules cannot be understood, tested or changed apart; break it with a leaf module for the shared part.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-imports-nothing-of-ours',
      comment: 'The domain is pure and runs in the browser and on Node: it must not depend on storage, the server or the web app.',
      severity: 'error',
      from: { path: '^packages/domain/' },
      to: { path: '^packages/(store|server|web)/' },
    },
    {
      name: 'store-imports-only-domain',
      comment: 'The change log and its projections sit under the server: they may use the domain, never the server or the web app.',
      severity: 'error',
      from: { path: '^packages/store/' },
      to: { path: '^packages/(server|web)/' },
    },
    {
      name: 'server-does-not-import-web',
      comment: 'The server serves the web app as built files (packages/web/dist); it never imports its code.',
      severity: 'error',
      from: { path: '^packages/server/' },
      to: { path: '^packages/web/' },
    },
    {
      name: 'web-app-imports-only-domain',
      comment: 'The web app runs in the browser: it talks to the server over HTTP and shares only the pure domain. (Its e2e tests, which start a real node, may use @steadfast/server/testing.)',
      severity: 'error',
      from: { path: '^packages/web/src/' },
      to: { path: '^packages/(server|store)/' },
    },
    {
      name: 'patient-form-imports-only-domain',
      comment: "The patient's online consultation form is public: it shares only the pure domain, never staff code (the web app), the server or the store.",
      severity: 'error',
      from: { path: '^packages/patient-web/' },
      to: { path: '^packages/(server|store|web)/' },
    },
    {
      name: 'no-relative-path-into-another-package',
      comment: 'Reach another package through its name (@steadfast/x and its "exports"), so its package.json says what it offers and the importer declares what it uses.',
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/', pathNot: '^packages/$1/', dependencyTypes: ['local'] },
    },
    {
      name: 'no-undeclared-package',
      comment: 'Every package a workspace imports is declared in that workspace\'s own package.json, so it installs and resolves on its own.',
      severity: 'error',
      from: { path: '^packages/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-unresolvable-import',
      comment: 'An import that resolves to nothing fails at run time.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
