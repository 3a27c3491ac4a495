// The chart chunk (see chart.ts): echarts/core and the few parts the page draws.
import { BarChart } from 'echarts/charts';
import { GridComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { Bar } from './chart';

echarts.use([BarChart, GridComponent, TitleComponent, TooltipComponent, CanvasRenderer]);

export function drawBars(el: HTMLElement, title: string, bars: Bar[]): () => void {
  const chart = echarts.init(el, undefined, { renderer: 'canvas' });
  chart.setOption({
    animation: false,
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
  const resize = () => chart.resize();
  window.addEventListener('resize', resize);
  el.dataset.chartReady = '1';
  performance.mark('chart-drawn');
  return () => {
    window.removeEventListener('resize', resize);
    chart.dispose();
  };
}
