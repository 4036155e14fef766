import type { CurrentUser } from '../accounts/account.types';
import { assertArea } from '../accounts/policy';
import { recordAudit } from '../platform/audit';
import type { Db } from '../platform/db/database';
import { notFound, validationFailed } from '../platform/errors';
import { parsePartial } from '../platform/validate';
import * as repo from './campaign.repository';
import { periodInput } from './campaign.contract';
import { PERIOD_NOT_FOUND } from './campaign.messages';

export interface Song {
  id: string;
  title: string;
  designated: boolean;
}
export interface CodeLabel {
  code: string;
  label: string;
}
export interface Period {
  id: string;
  name: string;
  submitBy: Date;
  forwardBy: Date;
  quota: number;
}
export interface Campaign {
  id: string;
  title: string;
  maxDurationS: number;
  songs: Song[];
  forms: CodeLabel[];
  levels: CodeLabel[];
  periods: Period[];
}

export const CAMPAIGN_ID = 'main';

export function createCampaignService(db: Db) {
  async function listPeriods(): Promise<Period[]> {
    const rows = await repo.listPeriodRows(db, CAMPAIGN_ID);
    return rows.map((p) => ({ id: p.id, name: p.name, submitBy: new Date(p.submit_by), forwardBy: new Date(p.forward_by), quota: p.quota }));
  }

  return {
    async get(): Promise<Campaign> {
      const [campaign, songs, forms, levels, periods] = await Promise.all([
        repo.findCampaign(db, CAMPAIGN_ID),
        repo.listSongs(db, CAMPAIGN_ID),
        repo.listForms(db),
        repo.listLevels(db),
        listPeriods(),
      ]);
      return { id: campaign.id, title: campaign.title, maxDurationS: campaign.max_duration_s, songs, forms, levels, periods };
    },

    listPeriods,

    async updatePeriod(actor: CurrentUser, id: string, body: unknown): Promise<Period> {
      assertArea(actor, 'periods');
      const current = await repo.findPeriod(db, id);
      if (!current) throw notFound(PERIOD_NOT_FOUND);
      const patch = parsePartial(periodInput, body);
      const submitBy = patch.submitBy ?? new Date(current.submit_by);
      const forwardBy = patch.forwardBy ?? new Date(current.forward_by);
      if (forwardBy < submitBy) throw validationFailed([{ field: 'forwardBy', message: '县区报送截止时间不能早于学校提交截止时间' }]);
      await db.transaction().execute(async (trx) => {
        await repo.updatePeriod(trx, id, {
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.quota !== undefined && { quota: patch.quota }),
          submit_by: submitBy,
          forward_by: forwardBy,
        });
        await recordAudit(trx, {
          actor,
          action: 'period.update',
          objectType: 'period',
          objectId: id,
          from: patch.quota !== undefined ? String(current.quota) : null,
          to: patch.quota !== undefined ? String(patch.quota) : null,
          detail: { ...patch },
        });
      });
      return (await listPeriods()).find((p) => p.id === id)!;
    },
  };
}

export type CampaignService = ReturnType<typeof createCampaignService>;
