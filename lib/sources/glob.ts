// File-name globs for source listings (*, ?, [abc], {csv,txt}), compiled once to a regular expression.

/** Compiles a glob matching one file name (no directories): `appointments-*.{csv,CSV}`. */
export function compileGlob(glob: string): (name: string) => boolean {
  let pattern = '';
  let inBraces = false;
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i]!;
    if (c === '*') pattern += '[^/]*';
    else if (c === '?') pattern += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) pattern += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        pattern += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = end;
      }
    } else if (c === '{' && !inBraces) {
      inBraces = true;
      pattern += '(?:';
    } else if (c === '}' && inBraces) {
      inBraces = false;
      pattern += ')';
    } else if (c === ',' && inBraces) pattern += '|';
    else pattern += c.replace(/[.+^$()|\\{}]/g, '\\$&');
  }
  if (inBraces) throw new Error(`the glob ${JSON.stringify(glob)} opens a { it does not close`);
  const regex = new RegExp(`^${pattern}$`);
  return (name) => regex.test(name);
}
