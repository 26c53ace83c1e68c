// js-yaml is installed (a dependency of @pulumi/pulumi) but ships no types,
// and @types/js-yaml is not a dev dependency: declare the one call the tests
// use to read YAML back.
declare module "js-yaml" {
  export function load(text: string): unknown;
}
