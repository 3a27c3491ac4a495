// The chart chunk (see chart.ts): echarts/core and the few parts the page draws.
import { BarChart } from 'echarts/charts';
import { GridComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { Bar } from './chart';

echarts.use([BarChart, GridComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

function render(el: HTMLElement, title: string, bars: Bar[]): echarts.ECharts {
  const chart = echarts.init(el, undefined, { renderer: 'canvas' });
  chart.setOption({
    animation: false,
    // The page's own font: the canvas finds the Chinese glyphs where the page already did.
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis' },
    grid: { left: 40, right: 16, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: bars.map((b) => b.name) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      {
        type: 'bar',
        data: bars.map((b) => ({ value: b.value, itemStyle: b.color ? { color: b.color } : undefined })),
        label: { show: true, position: 'top' },
      },
    ],
  });
  return chart;
}

export function drawBars(el: HTMLElement, title: string, bars: Bar[]): () => void {
  const chart = render(el, title, bars);
  const resize = () => chart.resize();
  window.addEventListener('resize', resize);
  el.dataset.chartReady = '1';
  performance.mark('chart-drawn');
  // On screen: the frame after the drawing is painted before a task queued from its
  // animation-frame callback runs.
  requestAnimationFrame(() => setTimeout(() => performance.mark('chart-painted')));
  return () => {
    window.removeEventListener('resize', resize);
    chart.dispose();
  };
}

// Draws a throwaway chart out of sight and disposes of it: ECharts' first drawing in a page costs
// several times a later one (its code compiled on first use, the canvas's fonts found), so the
// sign-in page pays it in idle time rather than the dashboard after sign-in.
export function warmUp(): void {
  const el = document.createElement('div');
  el.style.cssText = 'position:absolute;left:-10000px;top:0;width:600px;height:260px';
  el.setAttribute('aria-hidden', 'true');
  document.body.appendChild(el);
  try {
    render(el, '各状态教师人数', [
      { name: '已达标', value: 1 },
      { name: '落后', value: 2 },
    ]).dispose();
  } finally {
    el.remove();
  }
}
