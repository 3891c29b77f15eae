/** Dataset directories from the environment. */

/** An environment variable naming a dataset directory: unset -> undefined; set but empty -> an error. */
export function datasetEnvDir(env: string, fallback: string): string | undefined {
  const v = process.env[env];
  if (v === '') {
    throw new Error(`${env} is set but empty. Unset it to use ${fallback}, or set it to the dataset directory.`);
  }
  return v;
}
