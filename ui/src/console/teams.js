// The field teams on a panel: each team with its devices (online, offline, LOST, when last
// heard) and its open tasks with their state, kept current by the live connection.
import { api } from '../shared/api.js';
import { fill, h } from '../shared/dom.js';
import { formatTime, t } from '../shared/i18n.js';

export class TeamsView {
  constructor(live, { onReport }) {
    Object.assign(this, { live, onReport });
    this.list = h('ol', { id: 'team-list', class: 'cards' });
    this.element = h('section', { class: 'panel-body', 'aria-label': t('nav.teams') }, h('h2', {}, t('teams.title')), this.list);
    for (const kind of ['device', 'task']) live.addEventListener(kind, () => this.element.isConnected && this.load());
  }

  async load() {
    const [{ teams }, { tasks }] = await Promise.all([api('/api/v1/teams'), api('/api/v1/tasks?open=true')]);
    fill(this.list, teams.length ? teams.map((team) => this.card(team, tasks.filter((task) => task.team_id === team.id)))
      : h('li', { class: 'empty' }, t('teams.none')));
  }

  card(team, tasks) {
    return h('li', { class: 'card team-card', dataset: { teamId: team.id } },
      h('h3', {}, team.name),
      h('ul', { class: 'team-devices' }, team.devices.map((id) => this.device(id))),
      h('h4', {}, t('teams.open_tasks', { count: tasks.length })),
      tasks.length ? h('ul', { class: 'team-tasks' }, tasks.map((task) => h('li', { dataset: { status: task.status } },
        h('span', { class: `badge task-${task.status}` }, t(`task.${task.status}`)),
        ` ${task.note ?? ''} `,
        task.report_id ? h('button', { type: 'button', class: 'link', onclick: () => this.onReport(task.report_id) }, t('teams.open_report')) : null,
        h('small', {}, ` · ${formatTime(task.updated_at)}`)))) : null);
  }

  device(id) {
    const device = this.live.devices.get(id);
    const state = device?.state ?? 'offline';
    return h('li', {}, h('span', { class: `device-pin device-${state}` }, h('span', {}, `${id} · ${t(`device.${state}`)}`)),
      device?.state_at ? h('small', {}, ` ${t('teams.last_heard', { at: formatTime(device.state_at) })}`) : null);
  }
}
