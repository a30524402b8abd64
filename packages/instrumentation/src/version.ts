/** Instrumentation scope name and version reported on every span. */
export const PACKAGE_NAME = '@llm-prism/instrumentation';
export const PACKAGE_VERSION = '0.1.0';
