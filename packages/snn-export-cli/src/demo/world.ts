/**
 * The demo's environment: an agent in the unit square that should reach a goal.
 *
 * The agent starts each episode in the centre. When it comes within `goalRadius` of the goal it
 * gets reward 1 and the goal jumps to a new random place at least `minGoalJump` away. Bumping
 * into a wall (arriving at the border from inside) costs `wallPenalty`; every other step has
 * reward 0, so rewards are sparse.
 */
import type { Rng } from "./rng.js";

export interface WorldParams {
  /** Distance at which the goal counts as reached [0.08]. */
  goalRadius: number;
  /** New goals are at least this far from the agent [0.3]. */
  minGoalJump: number;
  /** Reward for reaching the goal [1]. */
  goalReward: number;
  /** Reward for bumping into a wall (≤ 0) [-0.1]. */
  wallPenalty: number;
  /** Fastest speed, unit lengths per second [1]. */
  maxSpeed: number;
}

export function defaultWorldParams(): WorldParams {
  return { goalRadius: 0.08, minGoalJump: 0.3, goalReward: 1, wallPenalty: -0.1, maxSpeed: 1 };
}

/** What one step of the world produced. */
export interface WorldStep {
  reward: number;
  reachedGoal: boolean;
  hitWall: boolean;
}

export class World {
  readonly params: WorldParams;
  x = 0.5;
  y = 0.5;
  goalX = 0.5;
  goalY = 0.5;
  /** Path length travelled in this episode. */
  distanceTravelled = 0;
  private atWall = false;
  private readonly rng: Rng;

  constructor(params: WorldParams, rng: Rng) {
    if (!(params.goalRadius > 0 && params.goalRadius < 0.5)) throw new RangeError("goalRadius must be in (0, 0.5)");
    if (!(params.minGoalJump >= 0 && params.minGoalJump < 0.9)) throw new RangeError("minGoalJump must be in [0, 0.9)");
    if (!(params.maxSpeed > 0)) throw new RangeError("maxSpeed must be > 0");
    this.params = params;
    this.rng = rng;
    this.reset();
  }

  /** Agent back to the centre, a new goal. */
  reset(): void {
    this.x = 0.5;
    this.y = 0.5;
    this.distanceTravelled = 0;
    this.atWall = false;
    this.moveGoal();
  }

  /** Direction from the agent to the goal, radians in (-π, π]. */
  goalAngle(): number {
    return Math.atan2(this.goalY - this.y, this.goalX - this.x);
  }

  goalDistance(): number {
    return Math.hypot(this.goalX - this.x, this.goalY - this.y);
  }

  /** Places the goal uniformly in [0.05, 0.95]², at least `minGoalJump` from the agent. */
  moveGoal(): void {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const gx = this.rng.uniform(0.05, 0.95);
      const gy = this.rng.uniform(0.05, 0.95);
      if (Math.hypot(gx - this.x, gy - this.y) >= this.params.minGoalJump) {
        this.goalX = gx;
        this.goalY = gy;
        return;
      }
    }
    // Unreachable with minGoalJump < 0.9 in practice; keep the last draw's mirror image.
    this.goalX = 1 - this.x;
    this.goalY = 1 - this.y;
  }

  /** Moves the agent with velocity (vx, vy) in units/s for `dtMs` milliseconds. */
  step(vx: number, vy: number, dtMs: number): WorldStep {
    const { maxSpeed } = this.params;
    const speed = Math.hypot(vx, vy);
    if (speed > maxSpeed) {
      vx *= maxSpeed / speed;
      vy *= maxSpeed / speed;
    }
    const dt = dtMs / 1000;
    let nx = this.x + vx * dt;
    let ny = this.y + vy * dt;
    let clamped = false;
    if (nx < 0) (nx = 0), (clamped = true);
    else if (nx > 1) (nx = 1), (clamped = true);
    if (ny < 0) (ny = 0), (clamped = true);
    else if (ny > 1) (ny = 1), (clamped = true);
    this.distanceTravelled += Math.hypot(nx - this.x, ny - this.y);
    this.x = nx;
    this.y = ny;

    const hitWall = clamped && !this.atWall;
    this.atWall = clamped;
    let reward = hitWall ? this.params.wallPenalty : 0;
    let reachedGoal = false;
    if (this.goalDistance() <= this.params.goalRadius) {
      reachedGoal = true;
      reward += this.params.goalReward;
      this.moveGoal();
    }
    return { reward, reachedGoal, hitWall };
  }
}
