/** ECharts with only the parts the app draws (bar charts, SVG), to keep the bundle small. */
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { init, use, type ComposeOption } from 'echarts/core';
import type { BarSeriesOption } from 'echarts/charts';
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

use([BarChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export type ChartOption = ComposeOption<BarSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption>;

export const palette = ['#0f766e', '#d97706', '#4f46e5', '#be185d'];

export function drawChart(element: HTMLElement, option: ChartOption): () => void {
  const chart = init(element, undefined, { renderer: 'svg' });
  // The page's own font, named: ECharts measures text (legend gaps, label widths) with the family it is given.
  const fontFamily = getComputedStyle(element).fontFamily || 'sans-serif';
  chart.setOption({ color: palette, textStyle: { fontFamily }, animationDuration: 300, ...option });
  const observer = new ResizeObserver(() => chart.resize());
  observer.observe(element);
  return () => {
    observer.disconnect();
    chart.dispose();
  };
}

