// The mentorship service's reasons for a suggestion, or for a new teacher left without one, said
// in Chinese with schools by their names (the service words them in English and names schools and
// teachers by id: services/mentorship/matching.cc, Why and NoCandidateWhy). A clause this does
// not know stays as the service wrote it, so a new wording shows rather than vanishes.

const subjects = (s: string) => (s === 'no shared subject' ? '无相同学科' : s.replace(/^subject /, '同教'));

function clause(c: string, school: (id: string) => string): string {
  let m: RegExpMatchArray | null;
  if ((m = c.match(/^same school (\S+) and (.+)$/))) return `同校（${school(m[1])}），${subjects(m[2])}`;
  if ((m = c.match(/^another school \((\S+)\) and (.+)$/))) return `外校（${school(m[1])}），${subjects(m[2])}`;
  if ((m = c.match(/^城区 school (\S+), (.+)$/))) return `城区学校（${school(m[1])}），${subjects(m[2])}`;
  if ((m = c.match(/^backbone (.+)$/))) return m[1] === '无' ? '非骨干教师' : `${m[1]}骨干教师`;
  if ((m = c.match(/^title (.+)$/))) return `职称${m[1]}`;
  if ((m = c.match(/^(\d+) of (\d+) places taken$/))) return `已带 ${m[1]} 人（最多 ${m[2]} 人）`;
  if ((m = c.match(/^ranked (\d+): \S+, ranked first, gives its (\d+) free places? to .+ so that more mentees are paired$/))) {
    return `第 ${m[1]} 人选：首选导师的 ${m[2]} 个名额给了其他新教师，以便结对更多人`;
  }
  if ((m = c.match(/^its (\d+) candidates' free places all go to other mentees; a maximum assignment pairs (\d+) of (\d+)$/))) {
    return `${m[1]} 位候选导师的名额都已给其他新教师（最多能为 ${m[3]} 人中的 ${m[2]} 人结对）`;
  }
  if ((m = c.match(/^no qualified mentor with a free place at school (\S+) teaches (.+)$/))) {
    return `${school(m[1])}没有教${m[2] === '(none)' ? '相同学科' : m[2]}、尚有名额的合格导师`;
  }
  if (c === 'no qualified mentor with a free place in the county') return '全县没有尚有名额的合格导师';
  if ((m = c.match(/^no urban backbone teacher with a free place teaches (.+)$/))) {
    return `没有教${m[1] === '(none)' ? '相同学科' : m[1]}、尚有名额的城区骨干教师`;
  }
  return c;
}

// The `why` clauses are joined by "; " (a suggestion's second clause list by ", " inside one).
export function whyInChinese(why: string, school: (id: string) => string): string {
  const parts = why.split('; ');
  // "its N candidates' ...; a maximum assignment pairs ..." is one reason over two parts.
  const joined: string[] = [];
  for (const p of parts) {
    if (p.startsWith('a maximum assignment') && joined.length) joined[joined.length - 1] += `; ${p}`;
    else joined.push(p);
  }
  return joined.map((c) => clause(c, school)).join('；');
}
