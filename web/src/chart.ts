// ECharts, loaded only when a chart is first drawn (its own chunk), with only the parts used:
// bar charts on a canvas, with grid, tooltip and legend. The first view stays small.
export interface Bar {
  name: string;
  value: number;
  color?: string;
}

type Echarts = typeof import('./chart_impl');
let loading: Promise<Echarts> | null = null;

export function loadCharts(): Promise<Echarts> {
  // A failed load (the network) is tried again by the next chart.
  loading ??= import('./chart_impl').catch((e) => {
    loading = null;
    throw e;
  });
  return loading;
}

// Draws bars in `el`; returns a function that disposes of the chart.
export async function drawBars(el: HTMLElement, title: string, bars: Bar[]): Promise<() => void> {
  const impl = await loadCharts();
  return impl.drawBars(el, title, bars);
}

// Loads the chart code and draws once out of sight (chart_impl.warmUp), for idle time.
export async function prepareCharts(): Promise<void> {
  (await loadCharts()).warmUp();
}
